"""Supplier catalogue: products, their prices and their locally stored images.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("product_code", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("sellable", sa.Boolean, nullable=False),
        sa.Column("not_sellable_reason", sa.String(255), nullable=False),
        sa.Column("image_urls", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("idx_products_brand_category", "products", ["brand", "category"])
    op.create_table(
        "product_prices",
        sa.Column("product_code", sa.String(32), primary_key=True),
        sa.Column("supply_price", sa.Float),
        sa.Column("invoice_price", sa.Float),
        sa.Column("stock_rebate", sa.Float),
        sa.Column("rebate_money", sa.Float),
        sa.Column("sale_price", sa.Float),
        sa.Column("sellable", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "product_images",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("product_code", sa.String(32), nullable=False),
        sa.Column("url", sa.String(512), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("product_code", "url", name="uq_product_image_url"),
    )
    op.create_index("idx_product_images_sha", "product_images", ["sha256"])


def downgrade() -> None:
    for table in ("product_images", "product_prices", "products"):
        op.drop_table(table)
