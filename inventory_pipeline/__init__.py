"""inventory_pipeline: keeps a marketplace seller's stock true everywhere (see README)."""
