"""Applying a checked snapshot to ``inventory_data``: set-based, in one transaction, idempotent.

The rows go to a staging table first; then a few statements record what changed in
``inventory_history``, upsert the ledger from staging, and bring to zero whatever the snapshot no
longer reports. ``last_sync_at`` is the snapshot's fetch time, so applying the same snapshot again
changes nothing and an old snapshot can never make stale stock look fresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, case, delete, func, insert, literal, or_, select, update

from inventory_pipeline.db.dialect import upsert_from_select
from inventory_pipeline.db.tables import KEY_COLUMNS, inventory_data, inventory_history, inventory_staging
from inventory_pipeline.sync_log import utcnow

STOCK_COLUMNS = (
    "product_id",
    "marketplace_sku",
    "warehouse_name",
    "current_stock",
    "reserved_stock",
    "available_stock",
)
STAGE_CHUNK = 5000


@dataclass
class ApplyResult:
    staged: int = 0
    inserted: int = 0
    changed: int = 0
    zeroed: int = 0
    corrupt_removed: int = 0
    duplicate_keys: int = 0


def _joined(s=inventory_staging, d=inventory_data):
    return and_(*(d.c[k] == s.c[k] for k in KEY_COLUMNS))


def _stage(conn: Connection, batch_id: str, chunks: Iterable[list[dict]]) -> int:
    staged = 0
    for chunk in chunks:
        for start in range(0, len(chunk), STAGE_CHUNK):
            part = chunk[start : start + STAGE_CHUNK]
            conn.execute(insert(inventory_staging), [{**r, "batch_id": batch_id} for r in part])
            staged += len(part)
    return staged


def _record_history(conn: Connection, batch_id: str, run_id: str, now: datetime) -> tuple[int, int]:
    s, d = inventory_staging, inventory_data
    columns = [
        *KEY_COLUMNS,
        "current_before",
        "current_after",
        "reserved_before",
        "reserved_after",
        "changed_at",
        "run_id",
    ]
    base = (
        select(
            *(s.c[k] for k in KEY_COLUMNS),
            d.c.current_stock,
            s.c.current_stock,
            d.c.reserved_stock,
            s.c.reserved_stock,
            literal(now),
            literal(run_id),
        )
        .select_from(s.outerjoin(d, _joined()))
        .where(s.c.batch_id == batch_id)
    )
    new = conn.execute(insert(inventory_history).from_select(columns, base.where(d.c.id.is_(None)))).rowcount
    changed = conn.execute(
        insert(inventory_history).from_select(
            columns,
            base.where(
                d.c.id.is_not(None),
                or_(d.c.current_stock != s.c.current_stock, d.c.reserved_stock != s.c.reserved_stock),
            ),
        )
    ).rowcount
    return new, changed


def _zero_vanished(
    conn: Connection, batch_id: str, source: str, account: str, fetched_at: datetime, run_id: str, now: datetime
) -> int:
    """Rows of the slice the snapshot no longer reports: recorded in history, then set to zero."""
    d, s = inventory_data, inventory_staging
    reported = select(literal(1)).where(s.c.batch_id == batch_id, *(s.c[k] == d.c[k] for k in KEY_COLUMNS))
    gone = and_(d.c.source == source, d.c.account == account, ~reported.exists())
    nonzero = or_(d.c.current_stock != 0, d.c.reserved_stock != 0, d.c.available_stock != 0)
    zeroed = conn.execute(
        insert(inventory_history).from_select(
            [
                *KEY_COLUMNS,
                "current_before",
                "current_after",
                "reserved_before",
                "reserved_after",
                "changed_at",
                "run_id",
            ],
            select(
                *(d.c[k] for k in KEY_COLUMNS),
                d.c.current_stock,
                literal(0),
                d.c.reserved_stock,
                literal(0),
                literal(now),
                literal(run_id),
            ).where(gone, nonzero),
        )
    ).rowcount
    conn.execute(
        update(d)
        .where(gone)
        .values(
            current_stock=0,
            reserved_stock=0,
            available_stock=0,
            last_sync_at=fetched_at,
            updated_at=case((nonzero, now), else_=d.c.updated_at),
        )
    )
    return zeroed


def remove_corrupt(conn: Connection, source: str, account: str) -> int:
    """Seed 000's recovery step: delete rows with NULL or negative stock before a full resync."""
    d = inventory_data
    return conn.execute(
        delete(d).where(
            d.c.source == source,
            d.c.account == account,
            or_(d.c.current_stock.is_(None), d.c.current_stock < 0, d.c.reserved_stock < 0),
        )
    ).rowcount


def apply(
    engine: Engine,
    source: str,
    account: str,
    fetched_at: datetime,
    chunks: Iterable[list[dict]],
    run_id: str,
    full_resync: bool = False,
) -> ApplyResult:
    """Make the ledger slice (source, account) equal to the snapshot, in one transaction."""
    result = ApplyResult()
    batch_id = str(uuid.uuid4())
    now = utcnow()
    with engine.begin() as conn:
        if full_resync:
            result.corrupt_removed = remove_corrupt(conn, source, account)
        result.staged = _stage(conn, batch_id, chunks)
        s = inventory_staging
        result.duplicate_keys = conn.execute(
            select(func.count()).select_from(
                select(*(s.c[k] for k in KEY_COLUMNS))
                .where(s.c.batch_id == batch_id)
                .group_by(*(s.c[k] for k in KEY_COLUMNS))
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        result.inserted, result.changed = _record_history(conn, batch_id, run_id, now)
        columns = [*KEY_COLUMNS, *STOCK_COLUMNS, "last_sync_at", "updated_at"]
        source_rows = select(
            *(s.c[c] for c in (*KEY_COLUMNS, *STOCK_COLUMNS)), literal(fetched_at), literal(now)
        ).where(s.c.batch_id == batch_id)
        conn.execute(
            upsert_from_select(
                conn, inventory_data, columns, source_rows, KEY_COLUMNS, [*STOCK_COLUMNS, "last_sync_at", "updated_at"]
            )
        )
        result.zeroed = _zero_vanished(conn, batch_id, source, account, fetched_at, run_id, now)
        conn.execute(delete(s).where(s.c.batch_id == batch_id))
    return result


def _count_where(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class SliceHealth:
    rows: int
    negative: int
    above_max: int
    reserved_over_present: int
    total_present: int


def slice_health(engine: Engine, source: str, account: str, max_stock: int) -> SliceHealth:
    """The figures seed 000's anomaly query looks at, for one source and account."""
    d = inventory_data
    with engine.connect() as conn:
        row = conn.execute(
            select(
                func.count(),
                _count_where(or_(d.c.current_stock < 0, d.c.reserved_stock < 0)),
                _count_where(d.c.current_stock > max_stock),
                _count_where(d.c.reserved_stock > d.c.current_stock),
                func.coalesce(func.sum(d.c.current_stock), 0),
            ).where(d.c.source == source, d.c.account == account)
        ).one()
    return SliceHealth(*(int(v) for v in row))


def freshness(engine: Engine) -> dict[tuple[str, str], datetime]:
    """Newest ``last_sync_at`` per (source, account)."""
    d = inventory_data
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.c.source, d.c.account, func.max(d.c.last_sync_at)).group_by(d.c.source, d.c.account)
        ).all()
    return {(r[0], r[1]): r[2] for r in rows}


@dataclass
class Preview:
    """What applying a snapshot would change (the dry run: nothing is written)."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    zeroed: int = 0
    sample: list[dict] | None = None


def preview(engine: Engine, source: str, account: str, chunks: Iterable[list[dict]]) -> Preview:
    d = inventory_data
    with engine.connect() as conn:
        current = {
            tuple(r[:5]): (r[5], r[6])
            for r in conn.execute(
                select(*(d.c[k] for k in KEY_COLUMNS), d.c.current_stock, d.c.reserved_stock).where(
                    d.c.source == source, d.c.account == account
                )
            )
        }
    result = Preview(sample=[])
    seen: set[tuple] = set()
    for chunk in chunks:
        for r in chunk:
            key = tuple(r[k] for k in KEY_COLUMNS)
            seen.add(key)
            before = current.get(key)
            after = (r["current_stock"], r["reserved_stock"])
            if before == after:
                result.unchanged += 1
                continue
            if before is None:
                result.new += 1
            else:
                result.changed += 1
            if len(result.sample) < 20:
                result.sample.append(
                    {
                        "sku": r["sku"],
                        "stock_type": r["stock_type"],
                        "warehouse_id": r["warehouse_id"],
                        "before": before[0] if before else None,
                        "after": after[0],
                    }
                )
    result.zeroed = sum(1 for key, (cur, res) in current.items() if key not in seen and (cur or res))
    return result
