"""Sales, sales analysis, product status and its history, stock events and their de-duplication;
first_seen_at on the ledger.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("inventory_data") as batch:
        batch.add_column(sa.Column("first_seen_at", sa.DateTime))
    op.execute("UPDATE inventory_data SET first_seen_at = last_sync_at WHERE first_seen_at IS NULL")
    op.create_table(
        "sales",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("sale_date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("external_id", sa.String(96), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("scheme", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("event_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("source", "account", "kind", "external_id", name="uq_sales_event"),
    )
    op.create_index("idx_sales_day", "sales", ["source", "account", "sale_date"])
    op.create_index("idx_sales_sku_day", "sales", ["sku", "sale_date"])
    op.create_table(
        "sales_analysis",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("revenue", sa.Float, nullable=False),
        sa.Column("days_in_stock", sa.Integer, nullable=False),
        sa.Column("avg_daily_units_in_stock", sa.Float, nullable=False),
        sa.Column("theoretical_units", sa.Float, nullable=False),
    )
    op.create_index("idx_sales_analysis_sku", "sales_analysis", ["source", "account", "sku", "computed_at"])
    op.create_table(
        "product_status",
        sa.Column("account", sa.String(32), primary_key=True),
        sa.Column("sku", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("since", sa.DateTime, nullable=False),
    )
    op.create_table(
        "product_status_history",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("old_status", sa.String(16)),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("stock_type", sa.String(8), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("delivered", sa.String(64), nullable=False),
        sa.Column("delivery_errors", sa.Text),
    )
    op.create_index("idx_notifications_sku", "notifications", ["event_type", "account", "sku", "created_at"])
    op.create_table(
        "event_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_history_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "event_dedupe",
        sa.Column("dedupe_key", sa.String(255), primary_key=True),
        sa.Column("last_sent_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("event_dedupe", "event_cursors", "notifications", "product_status_history", "product_status", "sales_analysis",
                  "sales"):
        op.drop_table(table)
    with op.batch_alter_table("inventory_data") as batch:
        batch.drop_column("first_seen_at")
