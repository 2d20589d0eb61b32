"""The measured process of ``benchmarks.stock_sync``: ``python -m benchmarks.sync_child URL DB FLOOR_DB``."""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time

import requests
from sqlalchemy import text


def run_child(url: str, db_url: str, floor_url: str) -> dict:
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

    def sync(instance: DagsterInstance) -> tuple[float, dict[str, float]]:
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
        return seconds, steps

    with DagsterInstance.ephemeral() as instance:
        job_seconds, steps = sync(instance)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        calls = requests.get(f"{url}/_sandbox/calls", timeout=60).json()
        # Steady state: an hour later (restocks and orders move a few % of the rows), the same sync again.
        requests.post(f"{url}/_sandbox/advance", json={"hours": 1}, timeout=600).raise_for_status()
        with engine.connect() as conn:
            before = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM inventory_history")).scalar_one()
            written_before = conn.execute(text("SELECT MAX(updated_at) FROM inventory_data")).scalar_one()
        resync_seconds, resync_steps = sync(instance)
        resync_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with engine.connect() as conn:
        ledger_rows = conn.execute(text("SELECT COUNT(*) FROM inventory_data")).scalar_one()
        changed = conn.execute(text("SELECT COUNT(*) FROM inventory_history WHERE id > :n"), {"n": before}).scalar_one()
        written = conn.execute(
            text("SELECT COUNT(*) FROM inventory_data WHERE updated_at > :t"), {"t": written_before}
        ).scalar_one()

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
        "job_seconds": job_seconds,
        "steps": steps,
        "peak_mb": peak_mb,
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
    figures = run_child(*sys.argv[1:4])
    with open(os.environ["BENCH_OUT"], "w") as out:
        json.dump(figures, out)
