"""One package per domain; each exposes ``definitions.build_defs``, merged by ``inventory_pipeline.definitions``."""
