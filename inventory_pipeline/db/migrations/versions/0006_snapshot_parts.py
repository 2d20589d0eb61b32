"""Rows per part of a snapshot (WB's report, each seller warehouse), for per-part drop limits.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stock_snapshots") as batch:
        batch.add_column(sa.Column("part_rows", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("stock_snapshots") as batch:
        batch.drop_column("part_rows")
