"""Every text compared exactly on MySQL/MariaDB, as SQLite compares it: the schema carries its own
character set (utf8mb4) and a binary NO PAD collation, whatever the database was created with. Under
the server default (``utf8mb4_general_ci``) ``ABC``, ``abc``, ``ABC `` and ``Ёлка``/``Елка`` were one
key; a latin1 database could not store a Cyrillic warehouse name at all.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from alembic import op

from inventory_pipeline.db.dialect import CHARSET, exact_collation

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = (
    "inventory_data",
    "inventory_history",
    "sync_logs",
    "stock_snapshots",
    "stock_snapshot_pages",
    "stock_snapshot_rows",
    "accounts",
    "wix_plans",
    "wix_plan_items",
    "wix_push_log",
    "products",
    "product_prices",
    "product_images",
    "sales",
    "sales_analysis",
    "product_status",
    "product_status_history",
    "notifications",
    "event_dedupe",
    "event_cursors",
    "stock_anomalies",
    "alembic_version",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name not in {"mysql", "mariadb"}:
        return  # SQLite compares texts exactly already
    collation = exact_collation(bind.dialect)
    # The database's default too, so that a table a later migration creates starts exact.
    op.execute(f"ALTER DATABASE CHARACTER SET {CHARSET} COLLATE {collation}")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} CONVERT TO CHARACTER SET {CHARSET} COLLATE {collation}")


def downgrade() -> None:
    # Going back to a case-insensitive collation would merge keys the ledger now holds apart: not done.
    pass
