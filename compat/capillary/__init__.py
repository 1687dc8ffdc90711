"""Capillary v2 customer reads (GET /v2/customers/{id}, /v2/customers/lookup[/customerDetails]) at /compat/capillary/;
docs/migrating-from-capillary.md."""
