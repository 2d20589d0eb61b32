"""The hashes of a snapshot's stored rows, line and key, so that the next sync compares snapshots by
hashes and reads back only the lines that changed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Blob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def upgrade() -> None:
    # Empty for chunks stored before: their snapshot is then compared with the ledger row by row, once.
    with op.batch_alter_table("stock_snapshot_rows") as batch:
        batch.add_column(sa.Column("line_hashes", Blob))
        batch.add_column(sa.Column("key_hashes", Blob))


def downgrade() -> None:
    with op.batch_alter_table("stock_snapshot_rows") as batch:
        batch.drop_column("key_hashes")
        batch.drop_column("line_hashes")
