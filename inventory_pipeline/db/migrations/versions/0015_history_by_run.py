"""What one run changed is read by its run id (a sync's largest changes, the anomalies it is judged
by): an index, so that reading one run's rows does not scan the whole history.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("idx_history_run", "inventory_history", ["run_id", "account"])


def downgrade() -> None:
    op.drop_index("idx_history_run", table_name="inventory_history")
