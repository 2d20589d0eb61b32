"""A deployment that works over time: dagster-daemon and the webserver, as in production, with the
sandbox; schedules and sensors tick for real (their intervals shortened by settings, in this test
only). No tick may fail, every run launched must succeed, the freshness check is re-evaluated."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from inventory_pipeline.settings import PROJECT_ROOT, load_settings
from inventory_pipeline_tests.support.pipeline import make_pipeline
from inventory_pipeline_tests.support.servers import dagster_process, stop_group
from marketplace_sandbox import SandboxServer

FRESHNESS = AssetCheckKey(AssetKey("inventory_data"), "every_account_fresh")


def _storage(kind: str, home: Path, request, monkeypatch) -> None:
    if kind == "sqlite":
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
        return
    for name, value in request.getfixturevalue("mariadb").dagster_storage_env("dagster_soak").items():
        monkeypatch.setenv(name, value)
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")


def _only_every_minute(name: str, defs) -> str:
    """SCHEDULE_CRONS that fires ``name`` every minute and parks every other schedule twelve hours
    away, so the schedules that would fall due on the hour (health, Haier, Ozon) stay out of the test."""
    parked = datetime.now(ZoneInfo(load_settings().timezone)) + timedelta(hours=12)
    crons = {s.name: f"{parked.minute} {parked.hour} * * *" for s in defs.schedules} | {name: "* * * * *"}
    return ";".join(f"{n}={c}" for n, c in crons.items())


def _ticks(instance: DagsterInstance) -> dict[str, list]:
    return {
        state.instigator_name: instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=100)
        for state in instance.all_instigator_state()
    }


@pytest.mark.parametrize("storage", ["sqlite", "mysql"])
def test_schedules_and_sensors_tick_for_real_without_a_failure(storage, request, monkeypatch, sqlite_url, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    _storage(storage, home, request, monkeypatch)
    with SandboxServer(skus=120, seed=7, profile="fast", wix_in_sync=True) as sandbox:
        pipeline = make_pipeline(monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v1", FRESHNESS_CHECK_SECONDS="5")
        monkeypatch.setenv("SCHEDULE_CRONS", _only_every_minute("stock_sync_every_6h", pipeline.defs))
        env = {**os.environ, "DAGSTER_HOME": str(home)}
        # As the README's production steps: the instance's storage first, then both services (started
        # on an empty database, each would create the same schema at once).
        subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), "instance", "migrate"],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            with (
                dagster_process("dagster-webserver", env=env, cwd=PROJECT_ROOT) as webserver,
                DagsterInstance.from_config(str(home)) as instance,
            ):
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    ticks = _ticks(instance)
                    runs = instance.get_runs()
                    # A sensor that reports check results and asks for no run records a SKIPPED tick.
                    sensor_ticks = [t for t in ticks.get("ledger_freshness", []) if t.status.value != "FAILURE"]
                    scheduled = [t for t in ticks.get("stock_sync_every_6h", []) if t.status.value == "SUCCESS"]
                    if len(sensor_ticks) >= 4 and scheduled and runs and all(r.is_finished for r in runs):
                        # ... and the sensor has judged freshness since the last run ended.
                        ended = max(instance.get_run_record_by_id(r.run_id).end_time or 0 for r in runs)
                        judged = instance.event_log_storage.get_asset_check_execution_history(FRESHNESS, limit=1)
                        if judged and not judged[0].run_id and judged[0].create_timestamp > ended:
                            break
                    time.sleep(2)
                failed = {name: [t.error for t in ts if t.status.value == "FAILURE"] for name, ts in ticks.items()}
                assert not any(failed.values()), failed
                assert len(sensor_ticks) >= 4 and scheduled, {
                    n: [t.status.value for t in ts] for n, ts in ticks.items() if ts
                }
                assert runs and {(r.job_name, r.status.value) for r in runs} == {("stock_sync_all_sources", "SUCCESS")}
                assert {r.tags["dagster/partition"] for r in runs} >= {"main", "second"}
                evaluations = instance.event_log_storage.get_asset_check_execution_history(FRESHNESS, limit=100)
                runless = [e for e in evaluations if not e.run_id]
                assert len(runless) >= 3  # the sensor's, one per tick, each stored
                assert runless[0].status.value == "SUCCEEDED"  # after the scheduled syncs, every source is fresh
                # The webserver reads the same storage: it lists the same runs.
                listed = requests.post(
                    f"{webserver}/graphql",
                    json={"query": "{ runsOrError { ... on Runs { results { runId status } } } }"},
                    timeout=30,
                ).json()["data"]["runsOrError"]["results"]
                assert {(r["runId"], r["status"]) for r in listed} == {(r.run_id, r.status.value) for r in runs}
        finally:
            stop_group(daemon)


def test_the_fast_path_keeps_wix_with_live_buyers_under_the_real_limits(monkeypatch):
    """The sandbox's live buyers and sellers for half a minute, under the published rate limits, with
    the real daemon, sensor and Ozon receiver: every change reaches Wix, no fast-path run fails, and
    nothing is answered 429. Speed is the benchmark's (benchmarks.lag), not this test's."""
    from benchmarks.lag import run

    for name in ("INVENTORY_DB_URL", "DAGSTER_HOME", "WIX_SITE_ID"):
        monkeypatch.delenv(name, raising=False)
    figures = run(skus=120, seconds=30, mode="fast", orders_per_minute=30)
    assert figures["changes"] > 5 and figures["reached_wix"] > 0
    assert figures["still_behind_at_end"] == 0 and figures["wix_wrong_without_a_change"] == 0, figures
    assert figures["fast_path_runs"] > 0 and figures["fast_path_runs_failed"] == 0, figures
    assert figures["answers_429"] == {}, figures
    assert figures["ozon_pushes"].get("delivered", 0) > 0 and not figures["ozon_pushes"].get("dropped"), figures
