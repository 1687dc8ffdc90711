"""Drop-in adapters that speak another loyalty vendor's dialect over our one loyalty core (docs/migrating-from-*.md)."""
