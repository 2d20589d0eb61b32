"""A durable queue of change signals (Ozon pushes, polled Wildberries orders) for the fast path,
the ledger indexed by marketplace SKU, by which a signal names a size (WB's chrtID, Ozon's SKU), and
by when a row was written, so that a sync's anomalies read what it wrote, not the whole slice.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from inventory_pipeline.db.dialect import ExactText

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stock_signals",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", ExactText(16), nullable=False),
        sa.Column("account", ExactText(32), nullable=False),
        sa.Column("kind", ExactText(32), nullable=False),
        sa.Column("ref_type", ExactText(16), nullable=False),
        sa.Column("ref", ExactText(128), nullable=False),
        sa.Column("warehouse_id", ExactText(32), nullable=False, server_default=""),
        sa.Column("dedupe_key", ExactText(255), nullable=False, unique=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("changed_at", sa.DateTime),
        sa.Column("status", ExactText(16), nullable=False),
        sa.Column("run_id", ExactText(64)),
        sa.Column("done_at", sa.DateTime),
        sa.Column("note", ExactText(255)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("idx_signals_pending", "stock_signals", ["account", "status", "id"])
    op.create_index("idx_signals_waiting", "stock_signals", ["status", "account"])
    op.create_index("idx_signals_orders", "stock_signals", ["account", "source", "kind", "received_at"])
    op.create_index("idx_marketplace_sku", "inventory_data", ["marketplace_sku", "source", "account"])
    op.create_index("idx_slice_written", "inventory_data", ["source", "account", "updated_at"])


def downgrade() -> None:
    op.drop_index("idx_slice_written", table_name="inventory_data")
    op.drop_index("idx_marketplace_sku", table_name="inventory_data")
    for index in ("idx_signals_orders", "idx_signals_waiting", "idx_signals_pending"):
        op.drop_index(index, table_name="stock_signals")
    op.drop_table("stock_signals")
