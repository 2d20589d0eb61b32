"""``sync_logs``: one row per source, account and run, as the cron stock-sync service's monitoring SQL expects."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, insert, select, update

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.tables import sync_logs
from inventory_pipeline.redact import redact_urls

STATUSES = {"pending", "processing", "success", "partial", "failed"}


def start(
    engine: Engine, source: str, account: str, run_id: str, sync_type: str = "stock", status: str = "processing"
) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            insert(sync_logs).values(
                source=source,
                account=account,
                sync_type=sync_type,
                status=status,
                records_processed=0,
                records_failed=0,
                started_at=utcnow(),
                run_id=run_id,
            )
        )
        return int(result.inserted_primary_key[0])


def finish(
    engine: Engine, log_id: int, status: str, processed: int = 0, failed: int = 0, error: str | None = None
) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown sync status {status!r}")
    now = utcnow()
    with engine.begin() as conn:
        started = conn.execute(select(sync_logs.c.started_at).where(sync_logs.c.id == log_id)).scalar_one()
        conn.execute(
            update(sync_logs)
            .where(sync_logs.c.id == log_id)
            .values(
                status=status,
                records_processed=processed,
                records_failed=failed,
                finished_at=now,
                duration_seconds=(now - started).total_seconds(),
                error_message=(error or None) and redact_urls(error)[:4000],
            )
        )


def sweep_abandoned(engine: Engine, source: str, account: str, finished: Callable[[str], bool]) -> int:
    """Rows left ``pending``/``processing`` by a run that is over (killed, crashed, database gone
    mid-run) are marked failed, so that the cron stock-sync service's monitoring never waits on them forever."""
    s = sync_logs
    with engine.connect() as conn:
        open_rows = conn.execute(
            select(s.c.id, s.c.run_id).where(
                s.c.source == source, s.c.account == account, s.c.status.in_(("pending", "processing"))
            )
        ).all()
    abandoned = [(row.id, row.run_id) for row in open_rows if finished(row.run_id)]
    now = utcnow()
    with engine.begin() as conn:
        for log_id, run_id in abandoned:
            conn.execute(
                update(s)
                .where(s.c.id == log_id, s.c.status.in_(("pending", "processing")))
                .values(
                    status="failed",
                    finished_at=now,
                    error_message=f"abandoned: run {run_id} ended before this sync finished",
                )
            )
    return len(abandoned)


def open_log(engine: Engine, source: str, account: str, run_id: str) -> int | None:
    """The run's still-open log row for a source, if the snapshot step started one."""
    with engine.connect() as conn:
        return conn.execute(
            select(sync_logs.c.id)
            .where(
                sync_logs.c.source == source,
                sync_logs.c.account == account,
                sync_logs.c.run_id == run_id,
                sync_logs.c.status == "processing",
            )
            .order_by(sync_logs.c.id.desc())
            .limit(1)
        ).scalar()


def mark(engine: Engine, log_id: int, status: str) -> None:
    """Move a log row along (pending → processing) without finishing it."""
    if status not in STATUSES:
        raise ValueError(f"unknown sync status {status!r}")
    with engine.begin() as conn:
        conn.execute(update(sync_logs).where(sync_logs.c.id == log_id).values(status=status))
