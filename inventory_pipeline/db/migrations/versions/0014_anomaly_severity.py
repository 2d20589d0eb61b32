"""Each stored anomaly carries its severity (error, warn, info), so that the weekly report counts
what meant trouble and not the day's ordinary falls. Rows stored before are given theirs by rule;
their "jump" rows (rises and falls alike) are listed findings, info.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from inventory_pipeline.db.dialect import ExactText

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BY_RULE = {"negative": "error", "above_max": "error", "reserved_over_present": "warn", "stale": "warn"}


def upgrade() -> None:
    with op.batch_alter_table("stock_anomalies") as batch:
        batch.add_column(sa.Column("severity", ExactText(8), nullable=False, server_default="info"))
    anomalies = sa.table("stock_anomalies", sa.column("rule", sa.String), sa.column("severity", sa.String))
    for rule, severity in BY_RULE.items():
        op.execute(anomalies.update().where(anomalies.c.rule == rule).values(severity=severity))


def downgrade() -> None:
    with op.batch_alter_table("stock_anomalies") as batch:
        batch.drop_column("severity")
