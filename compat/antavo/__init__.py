"""Antavo's dialect (/compat/antavo/): Events API, customer and coupons reads, error envelope, api_key and Escher."""
