"""Wix push: plans, their items, and the audit log of every quantity written.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wix_plans",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("catalog_version", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("total_products", sa.Integer, nullable=False),
        sa.Column("found_in_wix", sa.Integer, nullable=False),
        sa.Column("updates_prepared", sa.Integer, nullable=False),
        sa.Column("unknown_in_wix", sa.Integer, nullable=False),
    )
    op.create_table(
        "wix_plan_items",
        sa.Column("plan_id", Id, sa.ForeignKey("wix_plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sku", sa.String(128), primary_key=True),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("variant_id", sa.String(64), nullable=False),
        sa.Column("inventory_item_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.String(32)),
        sa.Column("current_quantity", sa.Integer, nullable=False),
        sa.Column("target_quantity", sa.Integer, nullable=False),
    )
    op.create_table(
        "wix_push_log",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("variant_id", sa.String(64), nullable=False),
        sa.Column("before_quantity", sa.Integer, nullable=False),
        sa.Column("target_quantity", sa.Integer, nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("pushed_at", sa.DateTime, nullable=False),
    )
    op.create_index("idx_wix_push_log_run", "wix_push_log", ["run_id"])
    op.create_index("idx_wix_push_log_sku", "wix_push_log", ["sku", "pushed_at"])


def downgrade() -> None:
    for table in ("wix_push_log", "wix_plan_items", "wix_plans"):
        op.drop_table(table)
