"""``stock_signals``: the durable queue between whoever hears of a change (the Ozon receiver, the
order polling) and the fast-path runs that act on it. A signal is committed before Ozon is answered;
a run claims an account's pending signals, and settles them when its changes are in the ledger and
in Wix, or gives them back when it fails."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.tables import stock_signals
from inventory_pipeline.defs.signals.messages import Signal

CLAIM_LIMIT = 5000  # one run's work; more waits for the next
CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim older than this belonged to a run that died
MAX_ATTEMPTS = 5  # runs that could not read a signal's SKU; then it is failed, and the full sync's
KEEP_DAYS = 8  # settled signals kept this long (beyond the week of postings the polling re-reads)


def enqueue(engine: Engine, signals: Iterable[Signal], now: datetime | None = None) -> int:
    """Store each signal not stored before; how many were new. A delivery Ozon retries, or an order
    polled again, finds its key already there."""
    q = stock_signals
    signals = list({s.dedupe_key: s for s in signals}.values())
    if not signals:
        return 0
    now = now or utcnow()
    new = 0
    with engine.begin() as conn:
        for start in range(0, len(signals), 500):
            batch = signals[start : start + 500]
            known = set(
                conn.execute(select(q.c.dedupe_key).where(q.c.dedupe_key.in_([s.dedupe_key for s in batch]))).scalars()
            )
            for signal in batch:
                if signal.dedupe_key in known:
                    continue
                try:
                    with conn.begin_nested():  # another receiver may store the same message meanwhile
                        conn.execute(insert(q).values(**_row(signal), received_at=now, status="pending"))
                    new += 1
                except IntegrityError:
                    continue
    return new


def _row(signal: Signal) -> dict:
    return {
        "source": signal.source,
        "account": signal.account,
        "kind": signal.kind,
        "ref_type": signal.ref_type,
        "ref": signal.ref[:128],
        "warehouse_id": signal.warehouse_id[:32],
        "dedupe_key": signal.dedupe_key[:255],
        "changed_at": signal.changed_at,
    }


@dataclass(frozen=True)
class Claimed:
    id: int
    source: str
    kind: str
    ref_type: str
    ref: str
    warehouse_id: str
    received_at: datetime
    changed_at: datetime | None


def claim(engine: Engine, account: str, run_id: str, now: datetime | None = None) -> list[Claimed]:
    """The account's pending signals (and those claimed by a run that died), now this run's."""
    q = stock_signals
    now = now or utcnow()
    waiting = and_(
        q.c.account == account,
        or_(q.c.status == "pending", and_(q.c.status == "claimed", q.c.done_at < now - CLAIM_TIMEOUT)),
    )
    with engine.begin() as conn:
        ids = list(conn.execute(select(q.c.id).where(waiting).order_by(q.c.id).limit(CLAIM_LIMIT)).scalars())
        if not ids:
            return []
        # done_at holds the claim's time until the signal is settled.
        conn.execute(update(q).where(q.c.id.in_(ids), waiting).values(status="claimed", run_id=run_id, done_at=now))
        rows = conn.execute(
            select(
                q.c.id, q.c.source, q.c.kind, q.c.ref_type, q.c.ref, q.c.warehouse_id, q.c.received_at, q.c.changed_at
            )
            .where(q.c.run_id == run_id, q.c.status == "claimed")
            .order_by(q.c.id)
        ).all()
    return [Claimed(*row) for row in rows]


def settle(engine: Engine, run_id: str, status: str, note: str | None = None, ids: Iterable[int] | None = None) -> int:
    """This run's claimed signals (or only ``ids``) marked ``applied``/``failed``, or given back
    (``pending``) for the next run."""
    q = stock_signals
    where = [q.c.run_id == run_id, q.c.status == "claimed"]
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0
        where.append(q.c.id.in_(ids))
    values = {"status": status, "done_at": utcnow(), "note": (note or None) and note[:255]}
    if status == "pending":
        values |= {"run_id": None, "done_at": None, "attempts": q.c.attempts + 1}
    with engine.begin() as conn:
        settled = conn.execute(update(q).where(*where).values(**values)).rowcount
        if status == "pending":
            # Given back too often: the read keeps failing for it. The full sync reconciles it.
            conn.execute(
                update(q)
                .where(q.c.status == "pending", q.c.attempts >= MAX_ATTEMPTS)
                .values(status="failed", done_at=utcnow(), note=f"not read in {MAX_ATTEMPTS} runs: {note or ''}"[:255])
            )
        return settled


def forget(engine: Engine, now: datetime | None = None) -> int:
    """Settled signals older than ``KEEP_DAYS``: the queue stays the size of its recent days."""
    q = stock_signals
    cutoff = (now or utcnow()) - timedelta(days=KEEP_DAYS)
    with engine.begin() as conn:
        return conn.execute(delete(q).where(q.c.status.in_(["applied", "failed"]), q.c.received_at < cutoff)).rowcount


@dataclass(frozen=True)
class Waiting:
    count: int
    newest_id: int
    oldest_received_at: datetime


def waiting(engine: Engine, now: datetime | None = None) -> dict[str, Waiting]:
    """Per account, the signals no run has taken (or whose run died)."""
    q = stock_signals
    now = now or utcnow()
    ready = or_(q.c.status == "pending", and_(q.c.status == "claimed", q.c.done_at < now - CLAIM_TIMEOUT))
    with engine.connect() as conn:
        rows = conn.execute(
            select(q.c.account, func.count(), func.max(q.c.id), func.min(q.c.received_at))
            .where(ready)
            .group_by(q.c.account)
        ).all()
    return {account: Waiting(int(n), int(newest), oldest) for account, n, newest, oldest in rows}


def recent_wb_orders(engine: Engine, account: str, since: datetime) -> list[tuple[str, str, str]]:
    """The account's WB orders signalled since ``since`` and not yet known cancelled: (order signal
    key, size, warehouse)."""
    q = stock_signals
    with engine.connect() as conn:
        rows = conn.execute(
            select(q.c.kind, q.c.dedupe_key, q.c.ref, q.c.warehouse_id).where(
                q.c.source == "wb",
                q.c.account == account,
                q.c.kind.in_(["wb_new_order", "wb_order_cancelled"]),
                q.c.received_at >= since,
            )
        ).all()
    cancelled = {key.rsplit(":", 1)[-1] for kind, key, _, _ in rows if kind == "wb_order_cancelled"}
    return [
        (key, ref, wh)
        for kind, key, ref, wh in rows
        if kind == "wb_new_order" and key.rsplit(":", 1)[-1] not in cancelled
    ]
