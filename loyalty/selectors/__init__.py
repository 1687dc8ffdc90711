"""Reads of the loyalty engine, one module per area; services write, these only read."""
