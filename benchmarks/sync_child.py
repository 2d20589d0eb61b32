"""The measured process of ``benchmarks.stock_sync``:
``python -m benchmarks.sync_child URL DB FLOOR_DB LAUNCHED_DB``."""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import threading
import time

import requests
from sqlalchemy import text


class MemorySampler:
    """The process's resident memory every 50 ms, so that each step's own peak can be told apart."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
        while not self._stop.wait(0.05):
            with open("/proc/self/statm") as statm:
                self.samples.append((time.time(), int(statm.read().split()[1]) * page_mb))

    def peak(self, start: float, end: float) -> float:
        return max((mb for at, mb in self.samples if start <= at <= end), default=0.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def step_peaks(instance, run_id: str, sampler: MemorySampler) -> dict[str, float]:
    """Each step's peak resident memory, from its start and end events."""
    started: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            peaks[event.step_key] = round(sampler.peak(started[event.step_key], entry.timestamp))
    return peaks


def stock_sync_job():
    """The job as the webserver and the daemon load it, for a run in its own step processes."""
    from inventory_pipeline.definitions import build_definitions
    from inventory_pipeline.settings import load_settings

    return build_definitions(load_settings()).resolve_job_def("stock_sync_all_sources")


def as_launched(db_url: str) -> tuple[float, float]:
    """A full sync into an empty ledger with the multiprocess executor, as runs launched from the UI,
    a schedule or the CLI execute: each step in its own process, the two snapshots side by side.
    (seconds, the largest step process's peak MB)."""
    from dagster import DagsterInstance, execute_job, reconstructable

    from inventory_pipeline.db.engine import make_engine, migrate

    os.environ["INVENTORY_DB_URL"] = db_url
    migrate(make_engine(db_url))
    with DagsterInstance.local_temp() as instance:
        started = time.perf_counter()
        result = execute_job(reconstructable(stock_sync_job), instance=instance, tags={"dagster/partition": "main"})
        seconds = time.perf_counter() - started
        assert result.success
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_child(url: str, db_url: str, floor_url: str, launched_url: str) -> dict:
    from marketplace_sandbox.env import sandbox_env

    # The stock sync alone: no Wix push, no supplier settings.
    os.environ.update({k: v for k, v in sandbox_env(url).items() if not k.startswith(("WIX_SITE", "HAIER_"))})
    os.environ.update({"SELLER_ACCOUNTS": "main", "INVENTORY_DB_URL": db_url, "MIN_PRODUCTS_THRESHOLD": "1"})
    from dagster import DagsterInstance

    from inventory_pipeline.db.engine import make_engine, migrate
    from inventory_pipeline.definitions import build_definitions
    from inventory_pipeline.defs.stock import ledger, snapshots
    from inventory_pipeline.defs.stock.ledger import ROW_COLUMNS
    from inventory_pipeline.settings import load_settings

    engine = make_engine(db_url)
    migrate(engine)
    defs = build_definitions(load_settings())

    sampler = MemorySampler()

    def sync(instance: DagsterInstance) -> tuple[float, dict[str, float], dict[str, float]]:
        started = time.perf_counter()
        result = defs.resolve_job_def("stock_sync_all_sources").execute_in_process(
            partition_key="main", instance=instance
        )
        assert result.success
        seconds = time.perf_counter() - started
        steps = {
            e.step_key: e.event_specific_data.duration_ms / 1000
            for e in result.all_events
            if e.event_type_value == "STEP_SUCCESS"
        }
        return seconds, steps, step_peaks(instance, result.run_id, sampler)

    with DagsterInstance.ephemeral() as instance:
        job_seconds, steps, peaks = sync(instance)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        calls = requests.get(f"{url}/_sandbox/calls", timeout=60).json()
        # Steady state: an hour later (restocks and orders move a few % of the rows), the same sync again.
        requests.post(f"{url}/_sandbox/advance", json={"hours": 1}, timeout=600).raise_for_status()
        with engine.connect() as conn:
            before = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM inventory_history")).scalar_one()
            written_before = conn.execute(text("SELECT MAX(updated_at) FROM inventory_data")).scalar_one()
        resync_seconds, resync_steps, resync_peaks = sync(instance)
        resync_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with engine.connect() as conn:
        ledger_rows = conn.execute(text("SELECT COUNT(*) FROM inventory_data")).scalar_one()
        changed = conn.execute(text("SELECT COUNT(*) FROM inventory_history WHERE id > :n"), {"n": before}).scalar_one()
        written = conn.execute(
            text("SELECT COUNT(*) FROM inventory_data WHERE updated_at > :t"), {"t": written_before}
        ).scalar_one()

    sampler.stop()
    # Before the write stage below loads every row: nothing of this process is in the step processes.
    launched_seconds, launched_peak_mb = as_launched(launched_url)
    # The write stage alone: the same rows into an empty ledger, against LOAD DATA of those rows.
    floor_engine = make_engine(floor_url)
    migrate(floor_engine)
    rows, fetched = [], {}
    for source in ("ozon", "wb"):  # the rows as the snapshot step stored them (TSV), as the ledger reads them
        snap = snapshots.latest(engine, source, "main")
        fetched[source] = snap.fetched_at
        rows.append((source, list(snapshots.stored_rows(engine, snap.id))))
    started = time.perf_counter()
    for source, chunks in rows:
        ledger.apply(floor_engine, source, "main", fetched[source], chunks, "bench")
    write_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for source, chunks in rows:
        ledger.apply(floor_engine, source, "main", fetched[source], chunks, "bench-again")
    reapply_seconds = time.perf_counter() - started

    with tempfile.NamedTemporaryFile("wb", suffix=".tsv", delete=False) as handle:
        for _, chunks in rows:
            for chunk in chunks:
                handle.write(chunk)
        path = handle.name
    with floor_engine.begin() as conn:
        conn.execute(text("CREATE TABLE inventory_floor LIKE inventory_data"))
    started = time.perf_counter()
    with floor_engine.begin() as conn:
        conn.execute(
            text(
                # a path this benchmark made
                f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE inventory_floor CHARACTER SET utf8mb4 "
                "FIELDS TERMINATED BY '\\t' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' LINES TERMINATED BY '\\n' "
                f"({', '.join(ROW_COLUMNS)}) SET last_sync_at = :t, updated_at = :t, first_seen_at = :t"
            ),
            {"t": fetched["ozon"]},
        )
    floor_seconds = time.perf_counter() - started
    os.unlink(path)
    return {
        "launched_seconds": launched_seconds,
        "launched_peak_mb": launched_peak_mb,
        "job_seconds": job_seconds,
        "steps": steps,
        "peak_mb": peak_mb,
        "step_peak_mb": peaks,
        "resync_step_peak_mb": resync_peaks,
        "calls": calls,
        "resync_seconds": resync_seconds,
        "resync_steps": resync_steps,
        "resync_peak_mb": resync_peak_mb,
        "resync_changed_rows": changed,
        "resync_written_rows": written,
        "ledger_rows": ledger_rows,
        "write_seconds": write_seconds,
        "reapply_seconds": reapply_seconds,
        "floor_seconds": floor_seconds,
    }


if __name__ == "__main__":
    figures = run_child(*sys.argv[1:5])
    with open(os.environ["BENCH_OUT"], "w") as out:
        json.dump(figures, out)
