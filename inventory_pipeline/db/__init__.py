"""The inventory database: tables, migrations and the few statements that differ per dialect."""
