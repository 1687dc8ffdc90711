"""LoyaltyLion's headless API (2025-06) at /compat/loyaltylion/headless/2025-06/{site_id}/: initialize session, get
customer, get configuration; docs/migrating-from-loyaltylion.md."""
