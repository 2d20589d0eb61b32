"""Anomaly reports; inventory_history says why a row changed (new, changed, vanished).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("inventory_history") as batch:
        batch.add_column(sa.Column("change", sa.String(8)))
    op.create_table(
        "stock_anomalies",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("detected_at", sa.DateTime, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("warehouse_id", sa.String(32), nullable=False),
        sa.Column("stock_type", sa.String(8), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("detail", sa.String(255), nullable=False),
    )
    op.create_index("idx_anomalies_run", "stock_anomalies", ["run_id"])
    op.create_index("idx_anomalies_time", "stock_anomalies", ["detected_at"])


def downgrade() -> None:
    op.drop_table("stock_anomalies")
    with op.batch_alter_table("inventory_history") as batch:
        batch.drop_column("change")
