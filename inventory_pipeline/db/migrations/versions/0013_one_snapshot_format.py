"""One format for every stored snapshot, so the ledger keeps one reading path: the hashes a chunk of
stored rows lacked before 0010 are computed from its rows; a snapshot stored before 0008, with no
rows at all, is no longer something to compare with or apply (its slice compares with the ledger once,
and an unapplied one is fetched again); WB part counts made in rows before sizes were counted are
dropped, so that no snapshot is judged against a count in other units.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import gzip

import orjson
import sqlalchemy as sa
from alembic import op

from inventory_pipeline.defs.stock import row_diff
from inventory_pipeline.defs.stock.ledger import rows_from_tsv

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

RECOUNTED_PARTS = ("wb_warehouses",)  # rows, before 0006's sizes


def upgrade() -> None:
    conn = op.get_bind()
    rows = sa.table(
        "stock_snapshot_rows",
        sa.column("snapshot_id"),
        sa.column("chunk_no"),
        sa.column("rows_gzip"),
        sa.column("line_hashes"),
        sa.column("key_hashes"),
    )
    snapshots = sa.table(
        "stock_snapshots", sa.column("id"), sa.column("status"), sa.column("applied_at"), sa.column("reason"),
        sa.column("part_rows"),
    )
    accounts = sa.table("accounts", sa.column("snapshot_id"), sa.column("row_figures"))
    unhashed = conn.execute(
        sa.select(rows.c.snapshot_id, rows.c.chunk_no).where(sa.or_(rows.c.line_hashes.is_(None), rows.c.key_hashes.is_(None)))
    ).all()
    for snapshot_id, chunk_no in unhashed:
        this = sa.and_(rows.c.snapshot_id == snapshot_id, rows.c.chunk_no == chunk_no)
        tsv = gzip.decompress(conn.execute(sa.select(rows.c.rows_gzip).where(this)).scalar_one())
        conn.execute(
            rows.update()
            .where(this)
            .values(
                line_hashes=row_diff.line_hashes(tsv).tobytes(),
                key_hashes=row_diff.key_hashes(rows_from_tsv(tsv)).tobytes(),
            )
        )
    with_rows = sa.select(rows.c.snapshot_id).distinct()
    rowless = [r[0] for r in conn.execute(sa.select(snapshots.c.id).where(snapshots.c.id.not_in(with_rows)))]
    for start in range(0, len(rowless), 500):
        batch = rowless[start : start + 500]
        conn.execute(accounts.update().where(accounts.c.snapshot_id.in_(batch)).values(snapshot_id=None, row_figures=None))
        conn.execute(
            snapshots.update()
            .where(snapshots.c.id.in_(batch), snapshots.c.status == "accepted", snapshots.c.applied_at.is_(None))
            .values(status="rejected", reason="stored before its rows were kept (migration 0013): the next sync fetches again")
        )
    for snapshot_id, parts in conn.execute(sa.select(snapshots.c.id, snapshots.c.part_rows).where(snapshots.c.part_rows.is_not(None))).all():
        counted = orjson.loads(parts) if parts else {}
        if any(name in counted for name in RECOUNTED_PARTS):
            kept = {k: v for k, v in counted.items() if k not in RECOUNTED_PARTS}
            conn.execute(snapshots.update().where(snapshots.c.id == snapshot_id).values(part_rows=orjson.dumps(kept).decode()))


def downgrade() -> None:
    pass  # the hashes computed are what 0010 would have stored; nothing to take back
