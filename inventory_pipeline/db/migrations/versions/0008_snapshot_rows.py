"""A snapshot's ledger rows, normalized once when fetched, so the ledger step does not parse its
pages again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Blob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "stock_snapshot_rows",
        sa.Column("snapshot_id", Id, sa.ForeignKey("stock_snapshots.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("chunk_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("rows_gzip", Blob, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stock_snapshot_rows")
