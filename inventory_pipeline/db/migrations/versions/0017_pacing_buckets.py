"""The rate-limit buckets shared by every process of the instance, so that accounts sync side by
side, each inside its own published limits, and two runs of one account share that account's.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from inventory_pipeline.db.dialect import ExactText

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_buckets",
        sa.Column("bucket", ExactText(200), primary_key=True),
        sa.Column("tokens", sa.Double, nullable=False),
        sa.Column("at_seconds", sa.Double, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pacing_buckets")
