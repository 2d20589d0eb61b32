"""Which snapshot a ledger slice was last made equal to, and the slice's figures right after, so
that the next sync can compare snapshots instead of every ledger row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("snapshot_id", Id))
        batch.add_column(sa.Column("row_figures", sa.String(96)))


# 0007's view, over accounts: SQLite rebuilds the table to drop a column, and a view on it must go first.
TOTALS_VIEW = (
    "CREATE VIEW inventory_totals AS SELECT d.source, d.account, d.sku, SUM(d.current_stock) AS current_stock, "
    "SUM(d.reserved_stock) AS reserved_stock, SUM(d.available_stock) AS available_stock, "
    "MAX(a.last_synced_at) AS last_sync_at FROM inventory_data d LEFT JOIN accounts a "
    "ON a.marketplace = d.source AND a.name = d.account GROUP BY d.source, d.account, d.sku"
)


def downgrade() -> None:
    op.execute("DROP VIEW inventory_totals")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("row_figures")
        batch.drop_column("snapshot_id")
    op.execute(TOTALS_VIEW)
