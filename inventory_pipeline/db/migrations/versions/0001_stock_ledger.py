"""Stock ledger: inventory_data, its history, sync_logs, snapshots, accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Blob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
KEY = ("source", "account", "sku", "warehouse_id", "stock_type")


def _stock_columns() -> list[sa.Column]:
    return [
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("warehouse_id", sa.String(32), nullable=False),
        sa.Column("stock_type", sa.String(8), nullable=False),
        sa.Column("product_id", sa.String(32), nullable=False),
        sa.Column("marketplace_sku", sa.String(32), nullable=False),
        sa.Column("warehouse_name", sa.String(128), nullable=False),
        sa.Column("current_stock", sa.Integer, nullable=False),
        sa.Column("reserved_stock", sa.Integer, nullable=False),
        sa.Column("available_stock", sa.Integer, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "inventory_data",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        *_stock_columns(),
        sa.Column("last_sync_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint(*KEY, name="uq_inventory_key"),
    )
    op.create_index("idx_product_source", "inventory_data", ["product_id", "source"])
    op.create_index("idx_source_account", "inventory_data", ["source", "account", "stock_type"])
    op.create_index("idx_sku", "inventory_data", ["sku"])


    op.create_table(
        "inventory_history",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        *_stock_columns()[:5],
        sa.Column("current_before", sa.Integer),
        sa.Column("current_after", sa.Integer, nullable=False),
        sa.Column("reserved_before", sa.Integer),
        sa.Column("reserved_after", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_index("idx_history_sku_time", "inventory_history", ["source", "account", "sku", "changed_at"])
    op.create_index("idx_history_time", "inventory_history", ["changed_at"])

    op.create_table(
        "sync_logs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("sync_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("records_processed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("records_failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("duration_seconds", sa.Float),
        sa.Column("error_message", sa.Text),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_index("idx_sync_logs_source_started", "sync_logs", ["source", "started_at"])
    op.create_index("idx_sync_logs_run", "sync_logs", ["run_id"])

    op.create_table(
        "stock_snapshots",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("fetched_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sku_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("row_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("skipped_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("page_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reason", sa.Text),
        sa.Column("applied_at", sa.DateTime),
    )
    op.create_index("idx_snapshots_latest", "stock_snapshots", ["source", "account", "status", "fetched_at"])

    op.create_table(
        "stock_snapshot_pages",
        sa.Column("snapshot_id", Id, sa.ForeignKey("stock_snapshots.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("page_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("part", sa.String(48), nullable=False),
        sa.Column("body_gzip", Blob, nullable=False),
    )

    # The cron stock-sync service's totals per SKU: Ozon fbo + fbs + rfbs, Wildberries quantity − reserved.
    op.execute(
        "CREATE VIEW inventory_totals AS SELECT source, account, sku, SUM(current_stock) AS current_stock, "
        "SUM(reserved_stock) AS reserved_stock, SUM(available_stock) AS available_stock, "
        "MAX(last_sync_at) AS last_sync_at FROM inventory_data GROUP BY source, account, sku"
    )

    op.create_table(
        "accounts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("marketplace", sa.String(16), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.Column("last_synced_at", sa.DateTime),
        sa.UniqueConstraint("marketplace", "name", name="uq_account"),
    )


def downgrade() -> None:
    op.execute("DROP VIEW inventory_totals")
    for table in ("accounts", "stock_snapshot_pages", "stock_snapshots", "sync_logs", "inventory_history",
                  "inventory_data"):
        op.drop_table(table)
