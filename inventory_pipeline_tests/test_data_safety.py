"""The fault matrix: each bad answer is refused before it can zero anything, the other source
still applies, nothing is left ``processing``, and a clean re-run converges. MariaDB and SQLite."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus
from sqlalchemy import select, update

from inventory_pipeline import sync_log
from inventory_pipeline.db.tables import stock_snapshots, sync_logs
from inventory_pipeline_tests.support.ledger_views import assert_ledger_matches, ledger_state, ledger_view
from inventory_pipeline_tests.support.pipeline import make_pipeline

WB_STOCKS = "/wb/marketplace/api/v3/stocks/"
WB_REPORT = "/wb/analytics/api/v1/warehouse_remains/tasks/"
OZON_STOCKS = "/ozon/v4/product/info/stocks"

# fault, source it hits, the snapshot status it must leave
MATRIX = [
    (f"empty@{WB_REPORT}", "wb", "rejected"),
    (f"truncate@{WB_REPORT}", "wb", "rejected"),
    (f"empty@{WB_STOCKS}*1", "wb", "rejected"),
    (f"500@{WB_STOCKS}+1", "wb", "failed"),
    ("malformed@/wb/content", "wb", "failed"),
    (f"empty@{OZON_STOCKS}", "ozon", "rejected"),
    (f"truncate@{OZON_STOCKS}", "ozon", "rejected"),
    (f"503@{OZON_STOCKS}", "ozon", "failed"),
]


def _rows(state: list[tuple], source: str) -> list[tuple]:
    return [r for r in state if r[0] == source]


@pytest.mark.parametrize(("fault", "source", "status"), MATRIX, ids=[m[0].split("@")[0] + "-" + m[1] for m in MATRIX])
def test_a_bad_answer_changes_nothing_and_the_other_source_still_applies(pipeline, fault, source, status):
    p = pipeline
    assert p.run().success
    before = ledger_state(p.engine)
    other = "ozon" if source == "wb" else "wb"
    p.advance(6)  # the other source has news to apply
    p.faults(fault)
    result = p.run()
    assert not result.success
    # A refused snapshot is no materialization: its failed checks and the step's failure say why, and
    # nothing after it runs (its slice, the ledger, the push); the other source's slice still applies.
    failure = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failure] == [f"{source}_stock_snapshot"]
    assert re.search(rf"snapshot \d+ for 'main' {status}: ", failure[0].event_specific_data.error.message)
    verdicts = {
        e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key.path[-1] == failure[0].step_key
    }
    assert all(e.partition == "main" for e in verdicts.values())
    assert any(not e.passed for e in verdicts.values())
    assert f"{source}_stock_snapshot" not in {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    done = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert f"{other}_ledger_slice" in done and not {f"{source}_ledger_slice", "inventory_data"} & done
    after = ledger_state(p.engine)
    assert _rows(after, source) == _rows(before, source)  # nothing zeroed, nothing half-written
    assert_ledger_matches(p.engine, p.truth(other), other)  # applied regardless
    with p.engine.connect() as conn:
        logs = {r.source: r.status for r in conn.execute(select(sync_logs).where(sync_logs.c.run_id == result.run_id))}
        snapshot = conn.execute(
            select(stock_snapshots.c.status, stock_snapshots.c.applied_at).where(
                stock_snapshots.c.run_id == result.run_id, stock_snapshots.c.source == source
            )
        ).one()
        skipped = conn.execute(
            select(stock_snapshots.c.skipped_count).where(
                stock_snapshots.c.run_id == result.run_id, stock_snapshots.c.source == other
            )
        ).scalar_one()
    # The sandbox's odd unreadable row makes the other source's sync partial, not failed.
    assert logs == {source: "failed", other: "partial" if skipped else "success"}
    assert snapshot.status == status and snapshot.applied_at is None
    p.faults("")
    assert p.run().success
    assert_ledger_matches(p.engine, p.truth(source), source)


def test_rows_left_processing_by_a_dead_run_are_marked_failed_live_ones_are_not(sqlite_pipeline):
    p = sqlite_pipeline
    live = p.instance.add_run(
        DagsterRun(job_name="stock_sync_wb", run_id=str(uuid.uuid4()), status=DagsterRunStatus.STARTED)
    )
    dead = p.instance.add_run(
        DagsterRun(job_name="stock_sync_wb", run_id=str(uuid.uuid4()), status=DagsterRunStatus.STARTED)
    )
    p.instance.report_run_failed(dead)  # killed: the database row it opened stays "processing"
    opened = {
        name: sync_log.start(p.engine, "wb", "main", run.run_id) for name, run in (("live", live), ("dead", dead))
    }
    opened["gone"] = sync_log.start(p.engine, "wb", "main", "run-from-a-wiped-instance")
    assert p.run("stock_sync_wb").success
    with p.engine.connect() as conn:
        status = {
            name: conn.execute(
                select(sync_logs.c.status, sync_logs.c.error_message).where(sync_logs.c.id == log_id)
            ).one()
            for name, log_id in opened.items()
        }
    assert status["live"].status == "processing"
    assert status["dead"].status == "failed" and "abandoned" in status["dead"].error_message
    assert status["gone"].status == "failed"


@pytest.mark.parametrize(
    ("sandbox_config", "reason"),
    [
        ({"wb_remains_seconds": 60}, "was not ready after 1 s (WB_REPORT_WAIT_SECONDS)"),
        ({"wb_remains_outcome": "canceled"}, "ended 'canceled'"),
    ],
    ids=["never-ready", "canceled"],
)
def test_a_remains_report_that_never_arrives_fails_wb_only(monkeypatch, sandbox, sqlite_url, sandbox_config, reason):
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, WB_REPORT_WAIT_SECONDS="1")
    requests.put(f"{sandbox.url}/_sandbox/config", json=sandbox_config, timeout=5).raise_for_status()
    try:
        result = p.run()
    finally:
        requests.put(
            f"{sandbox.url}/_sandbox/config", json={"wb_remains_seconds": None, "wb_remains_outcome": "done"}, timeout=5
        ).raise_for_status()
    assert not result.success
    with p.engine.connect() as conn:
        logs = {r.source: (r.status, r.error_message) for r in conn.execute(select(sync_logs))}
    # Ozon is unaffected: "partial" only for the odd unreadable row the sandbox always serves.
    assert logs["ozon"] == ("partial", None) and logs["wb"][0] == "failed"
    assert reason in logs["wb"][1]
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")
    assert ledger_view(p.engine, "wb") == {}
    assert p.run().success  # the next sync asks for a new report
    assert_ledger_matches(p.engine, p.truth("wb"), "wb")


def test_every_kind_of_log_left_open_by_a_dead_run_or_a_killed_process_is_swept(sqlite_pipeline):
    """Haier and sales logs stayed ``processing`` forever (only the stock snapshot step swept, and only
    its own source); a run killed under the CLI still says it started, so its process is asked too."""
    p = sqlite_pipeline
    dead = p.instance.add_run(
        DagsterRun(job_name="haier_prices_sync", run_id=str(uuid.uuid4()), status=DagsterRunStatus.STARTED)
    )
    p.instance.report_run_failed(dead)
    killed = p.instance.add_run(
        DagsterRun(job_name="sales_daily", run_id=str(uuid.uuid4()), status=DagsterRunStatus.STARTED)
    )
    opened = {
        "haier prices of a failed run": sync_log.start(p.engine, "haier", "haier", dead.run_id, "prices"),
        "sales of a killed process": sync_log.start(p.engine, "wb", "second", killed.run_id, "sales"),
        "stock of a live run": sync_log.start(p.engine, "ozon", "main", killed.run_id),
    }
    # The killed run's rows belong to a process that is gone: a child that has exited.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    gone = f"{socket.gethostname()}:{child.pid}:{sync_log._started(child.pid)}"
    child.wait()
    with p.engine.begin() as conn:
        conn.execute(update(sync_logs).where(sync_logs.c.id == opened["sales of a killed process"]).values(worker=gone))
    assert p.run("stock_sync_ozon").success
    with p.engine.connect() as conn:
        status = {
            name: conn.execute(select(sync_logs.c.status).where(sync_logs.c.id == log_id)).scalar_one()
            for name, log_id in opened.items()
        }
    assert status == {
        "haier prices of a failed run": "failed",
        "sales of a killed process": "failed",
        "stock of a live run": "processing",  # its run says it started and its process (this one) runs
    }


def test_the_run_that_loses_a_slice_race_ends_as_its_log_says(sqlite_pipeline, tmp_path):
    """Two runs of one slice: the later snapshot is applied first, so the other run's ledger step finds
    it applied. That run succeeded; its log said "processing" until a sweep called it abandoned."""
    p = sqlite_pipeline
    # Two runs at once from two threads: an instance on files, as a deployment has (the in-memory one
    # is one connection, and one thread's read can find the other's write holding its table).
    p.instance = DagsterInstance.local_temp(str(tmp_path))
    p.faults("slow@/wb/content*1", slow_seconds=4)  # the first run waits on WB after its Ozon snapshot
    first: dict = {}
    runner = threading.Thread(target=lambda: first.update(result=p.run()))
    runner.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with p.engine.connect() as conn:
            if conn.execute(select(stock_snapshots.c.id).where(stock_snapshots.c.source == "ozon")).first():
                break
        time.sleep(0.05)
    second = p.run("stock_sync_ozon")  # fetches, and applies, a newer Ozon snapshot meanwhile
    runner.join()
    assert first["result"].success and second.success
    assert p.run("stock_sync_wb").success  # a later sync's sweep
    with p.engine.connect() as conn:
        logs = conn.execute(
            select(sync_logs.c.run_id, sync_logs.c.source, sync_logs.c.status, sync_logs.c.error_message)
        ).all()
    mine = {(r.source, r.status) for r in logs if r.run_id == first["result"].run_id}
    assert mine <= {("ozon", "success"), ("wb", "success"), ("wb", "partial"), ("ozon", "partial")}
    assert all(r.status != "processing" for r in logs)
    assert any("superseded" in (r.error_message or "") for r in logs if r.run_id == first["result"].run_id)
