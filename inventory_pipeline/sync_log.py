"""``sync_logs``: one row per source, account, kind and run, as the cron stock-sync service's
monitoring SQL expects. A row left ``pending``/``processing`` by a run that ended without finishing
it is swept to ``failed`` ("abandoned") by the next logged step of any kind."""

from __future__ import annotations

import multiprocessing
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from dagster import DagsterInstance
from sqlalchemy import Engine, insert, select, update

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.tables import sync_logs
from inventory_pipeline.redact import redact_urls

STATUSES = {"pending", "processing", "success", "partial", "failed"}
OPEN = ("pending", "processing")


def _started(pid: int) -> str:
    """A process's start time in clock ticks since boot (``/proc/<pid>/stat``), "" when unknown: with
    the pid it names one process, as a pid alone is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


def this_worker() -> str:
    """The process running this run: the run worker itself, also when a step runs in a child of it
    (the multiprocess executor), since the log row outlives the step that opened it."""
    parent = multiprocessing.parent_process()
    pid = parent.pid if parent else os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid)}"


def worker_gone(worker: str | None) -> bool:
    """True when ``worker`` is a process of this machine that no longer runs. A process elsewhere
    cannot be seen from here: its run's status decides."""
    if not worker or worker.count(":") < 2:
        return False
    host, pid, started = worker.rsplit(":", 2)
    if host != socket.gethostname() or not started or not pid.isdigit():
        return False
    return _started(int(pid)) != started


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
                worker=this_worker(),
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


def sweep_abandoned(engine: Engine, finished: Callable[[str], bool]) -> int:
    """Rows of every kind left open by a run that is over (``finished``: killed, crashed) or whose
    process is gone (a run killed under the CLI still says it started) are marked failed, so that the
    cron stock-sync service's monitoring never waits on them forever."""
    s = sync_logs
    with engine.connect() as conn:
        open_rows = conn.execute(select(s.c.id, s.c.run_id, s.c.worker).where(s.c.status.in_(OPEN))).all()
    abandoned = [(row.id, row.run_id) for row in open_rows if worker_gone(row.worker) or finished(row.run_id)]
    now = utcnow()
    with engine.begin() as conn:
        for log_id, run_id in abandoned:
            conn.execute(
                update(s)
                .where(s.c.id == log_id, s.c.status.in_(OPEN))
                .values(
                    status="failed",
                    finished_at=now,
                    error_message=f"abandoned: run {run_id} ended before this sync finished",
                )
            )
    return len(abandoned)


def finished_runs(instance: DagsterInstance) -> Callable[[str], bool]:
    """Whether a run is over (or unknown to this instance): its open rows are then abandoned."""

    def finished(run_id: str) -> bool:
        run = instance.get_run_by_id(run_id)
        return run is None or run.is_finished

    return finished


class Counts(Protocol):
    succeeded: int
    failed: list[str]


@contextmanager
def logged(
    engine: Engine, instance: DagsterInstance, source: str, account: str, run_id: str, sync_type: str, counts: Counts
) -> Iterator[None]:
    """A sync's log row around its work: abandoned rows swept first, then pending → processing →
    success / partial (``counts.failed``) / failed (an exception, re-raised)."""
    sweep_abandoned(engine, finished_runs(instance))
    log_id = start(engine, source, account, run_id, sync_type, status="pending")
    mark(engine, log_id, "processing")
    try:
        yield
    except Exception as exc:
        finish(engine, log_id, "failed", counts.succeeded, len(counts.failed), str(exc))
        raise
    status = "partial" if counts.failed else "success"
    finish(engine, log_id, status, counts.succeeded, len(counts.failed), "; ".join(counts.failed[:20]) or None)


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
