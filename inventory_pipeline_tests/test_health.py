"""The hourly health job (seed 000's diagnostic_tool.py --full-check), one clear result per check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from dagster import DagsterInstance

from inventory_pipeline.settings import PROJECT_ROOT
from inventory_pipeline_tests.support.pipeline import make_pipeline
from inventory_pipeline_tests.support.servers import free_port


def outcomes(result) -> dict[str, str]:
    """Each check of service_health: "ok", or what it says is wrong. The run fails when one does."""
    found = {
        e.check_name: "ok" if e.passed else e.description
        for e in result.get_asset_check_evaluations()
        if e.asset_key.path[-1] == "service_health"
    }
    assert result.success == all(v == "ok" for v in found.values())
    return found


def test_each_check_reports_what_is_wrong_on_the_assets_page(monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(monkeypatch, sandbox, sqlite_url)
    before = outcomes(p.run("health_check"))
    assert set(before) == {
        "main_credentials",
        "second_credentials",
        "haier_api",
        "database",
        "daemon",
        "main_recent_syncs",
        "second_recent_syncs",
        "products_synced",
    }
    assert before["main_credentials"] == before["second_credentials"] == before["haier_api"] == "ok"
    assert before["database"] == "ok"
    assert "ozon/main: no successful sync yet" in before["main_recent_syncs"]
    assert "daemon is not running" in before["daemon"]
    assert p.run(account="main").success and p.run(account="second").success
    after = outcomes(p.run("health_check"))
    assert after["main_recent_syncs"] == after["second_recent_syncs"] == "ok"
    monkeypatch.setenv("WB_API_KEY_SECOND", "nope")
    wrong = outcomes(p.run("health_check"))
    assert "WB_API_KEY_SECOND" in wrong["second_credentials"] and wrong["main_credentials"] == "ok"


def test_a_database_that_is_down_is_named(monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(
        monkeypatch, sandbox, sqlite_url, INVENTORY_DB_URL=f"mysql+pymysql://root@127.0.0.1:{free_port()}/inventory"
    )
    failure = outcomes(p.run("health_check"))["database"]
    assert "Can't connect" in failure


def test_a_database_that_answers_but_cannot_give_its_sync_logs_fails_those_checks(monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(monkeypatch, sandbox, sqlite_url)
    assert p.run(account="main").success
    with p.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE sync_logs RENAME TO sync_logs_away")
    found = outcomes(p.run("health_check"))
    assert found["database"] == "ok"
    assert "sync logs unreadable" in found["main_recent_syncs"] and "sync_logs" in found["main_recent_syncs"]
    assert "sync logs unreadable" in found["products_synced"]


def test_a_running_daemon_passes_the_schedule_check(monkeypatch, sandbox, sqlite_url, tmp_path):
    p = make_pipeline(monkeypatch, sandbox, sqlite_url)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "inventory_pipeline_tests" / "instance.yaml", home / "dagster.yaml")
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not {"SCHEDULER", "SENSOR"} <= set(instance.get_daemon_heartbeats()):
                time.sleep(1)
            p.instance = instance
            assert outcomes(p.run("health_check"))["daemon"] == "ok"
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)


def test_an_account_that_never_synced_is_named(monkeypatch, sandbox, sqlite_url):
    """With two accounts and only one ever synced the check passed: it took the last sync per source."""
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, SELLER_ACCOUNTS="main,second")
    assert p.run(account="main").success
    found = outcomes(p.run("health_check"))
    assert "ozon/second: no successful sync yet" in found["second_recent_syncs"]
    assert "wb/second: no successful sync yet" in found["second_recent_syncs"]
    assert found["main_recent_syncs"] == "ok"


def test_unreachable_apis_are_asked_once_each_and_named_with_the_setting_to_fix(monkeypatch, sandbox, sqlite_url):
    closed = f"http://127.0.0.1:{free_port()}"
    urls = {
        "OZON_API_URL": f"{closed}/ozon",
        "WB_CONTENT_API_URL": f"{closed}/wb/content",
        "WIX_API_URL": f"{closed}/wix",
        "HAIER_API_URL": f"{closed}/haier",
    }
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, SELLER_ACCOUNTS="main,second", WIX_SITE_ID="site-v1", **urls)
    started = time.monotonic()
    found = outcomes(p.run("health_check"))
    elapsed = time.monotonic() - started
    failure = " ".join(found.values())
    for name, url in urls.items():
        assert f"check {name}={url}" in failure, name
    assert "(not retried)" in failure and "after 4 attempts" not in failure
    print(f"health check with every API unreachable: {elapsed:.1f} s")  # 3 min 45 s before, six clients retried
