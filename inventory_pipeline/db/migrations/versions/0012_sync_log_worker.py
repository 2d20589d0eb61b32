"""Which process a sync log row belongs to (host, pid, its start time), so that a row left
``processing`` by a run killed outside any daemon (the CLI, a machine that went down) is seen to be
abandoned although the run still says it started.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from inventory_pipeline.db.dialect import ExactText

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_logs") as batch:
        batch.add_column(sa.Column("worker", ExactText(128)))


def downgrade() -> None:
    with op.batch_alter_table("sync_logs") as batch:
        batch.drop_column("worker")
