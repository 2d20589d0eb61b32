"""A slice's sync time lives once in ``accounts.last_synced_at``: a sync no longer rewrites
``inventory_data.last_sync_at`` on every row, only on the rows that changed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_VIEW = (
    "CREATE VIEW inventory_totals AS SELECT source, account, sku, SUM(current_stock) AS current_stock, "
    "SUM(reserved_stock) AS reserved_stock, SUM(available_stock) AS available_stock, "
    "MAX(last_sync_at) AS last_sync_at FROM inventory_data GROUP BY source, account, sku"
)


def upgrade() -> None:
    op.execute(
        "INSERT INTO accounts (marketplace, name, active, first_seen_at, last_synced_at) "
        "SELECT d.source, d.account, 1, COALESCE(MIN(d.first_seen_at), MIN(d.last_sync_at)), MAX(d.last_sync_at) "
        "FROM inventory_data d WHERE NOT EXISTS "
        "(SELECT 1 FROM accounts a WHERE a.marketplace = d.source AND a.name = d.account) "
        "GROUP BY d.source, d.account"
    )
    op.execute("DROP VIEW inventory_totals")
    # The cron stock-sync service's totals per SKU, with the slice's sync time.
    op.execute(
        "CREATE VIEW inventory_totals AS SELECT d.source, d.account, d.sku, SUM(d.current_stock) AS current_stock, "
        "SUM(d.reserved_stock) AS reserved_stock, SUM(d.available_stock) AS available_stock, "
        "MAX(a.last_synced_at) AS last_sync_at FROM inventory_data d LEFT JOIN accounts a "
        "ON a.marketplace = d.source AND a.name = d.account GROUP BY d.source, d.account, d.sku"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE inventory_data SET last_sync_at = (SELECT a.last_synced_at FROM accounts a "
        "WHERE a.marketplace = inventory_data.source AND a.name = inventory_data.account) "
        "WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.marketplace = inventory_data.source "
        "AND a.name = inventory_data.account AND a.last_synced_at IS NOT NULL)"
    )
    op.execute("DROP VIEW inventory_totals")
    op.execute(OLD_VIEW)
