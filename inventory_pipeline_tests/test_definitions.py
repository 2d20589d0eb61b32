"""The code location as Dagster sees it: jobs, schedules, sensors, secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import (
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    EnvVar,
    build_schedule_context,
    build_sensor_context,
)
from sqlalchemy import update

from inventory_pipeline.db.tables import accounts
from inventory_pipeline.definitions import build_definitions
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.settings import PROJECT_ROOT, SettingsError, load_settings


def test_dagster_validates_the_code_location(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(PROJECT_ROOT / "workspace.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
        env={"DAGSTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed validation" in result.stdout + result.stderr


def test_jobs_schedules_and_sensors_are_there_and_on(monkeypatch):
    monkeypatch.setenv("SELLER_ACCOUNTS", "main,second")
    monkeypatch.delenv("WIX_SITE_ID", raising=False)
    monkeypatch.delenv("HAIER_CLIENT_ID", raising=False)
    defs = build_definitions(load_settings())
    for job in (
        "stock_sync_all_sources",
        "stock_sync_ozon",
        "stock_sync_wb",
        "stock_full_resync",
        "health_check",
        "stock_sync_dry_run",
    ):
        assert defs.resolve_job_def(job) is not None
    schedules = {s.name: s for s in defs.schedules}
    expected = {
        "stock_sync_every_6h": "0 */6 * * *",
        "ozon_stock_sync_every_4h": "0 */4 * * *",
        "wb_stock_sync_every_4h_at_30": "30 */4 * * *",
        "full_resync_sundays_0200": "0 2 * * 0",
        "health_check_hourly": "0 * * * *",
        "sales_yesterday_daily": "0 3 * * *",
        "sales_today_hourly": "20 * * * *",
        "sales_analysis_daily": "30 4 * * *",
        "backup_daily_0130": "30 1 * * *",
        "weekly_report_mondays_0900": "0 9 * * 1",
        "wix_push_hourly": "15 * * * *",
        "haier_catalogue_daily_0200": "0 2 * * *",
        "haier_prices_hourly": "0 * * * *",
        "haier_stock_every_30_min": "*/30 * * * *",
    }
    assert {n: s.cron_schedule for n, s in schedules.items()} == expected
    optional = {"wix_push_hourly", "haier_catalogue_daily_0200", "haier_prices_hourly", "haier_stock_every_30_min"}
    assert all(s.default_status == DefaultScheduleStatus.RUNNING for n, s in schedules.items() if n not in optional)
    assert all(schedules[n].default_status == DefaultScheduleStatus.STOPPED for n in optional)  # not configured
    monkeypatch.setenv("WIX_SITE_ID", "site")
    monkeypatch.setenv("HAIER_CLIENT_ID", "client")
    configured = {s.name: s for s in build_definitions(load_settings()).schedules}
    assert all(configured[n].default_status == DefaultScheduleStatus.RUNNING for n in optional)
    assert all(s.execution_timezone == "Europe/Moscow" for s in schedules.values())
    sensor = next(s for s in defs.sensors if s.name == "ledger_freshness")
    assert sensor.default_status == DefaultSensorStatus.RUNNING


def test_a_schedule_tick_asks_for_one_run_per_account(monkeypatch):
    monkeypatch.setenv("SELLER_ACCOUNTS", "main,second")
    defs = build_definitions(load_settings())
    schedule = next(s for s in defs.schedules if s.name == "ozon_stock_sync_every_4h")
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 23, 4, tzinfo=UTC)
        )
        requests = list(schedule(context))
    assert sorted(r.partition_key for r in requests) == ["main", "second"]
    assert len({r.run_key for r in requests}) == 2


def test_secrets_are_env_vars_and_never_reach_the_event_log(monkeypatch, sqlite_pipeline):
    monkeypatch.setenv("SELLER_ACCOUNTS", "main")
    defs = build_definitions(load_settings())
    resources = defs.resources
    assert isinstance(resources["ozon_main"].api_key, EnvVar)
    assert isinstance(resources["ozon_main"].client_id, EnvVar)
    assert isinstance(resources["wb_main"].api_key, EnvVar)
    assert isinstance(resources["database"].url, EnvVar)  # the URL carries the database password
    result = sqlite_pipeline.run()
    assert result.success
    logged = " ".join(str(e) for e in sqlite_pipeline.instance.all_logs(result.run_id))
    for secret in ("sandbox-ozon-key-main", "sandbox-wb-token-main"):
        assert secret not in logged


def test_freshness_sensor_reports_stale_sources(sqlite_pipeline, sqlite_url):
    assert sqlite_pipeline.run().success
    sensor = next(s for s in sqlite_pipeline.defs.sensors if s.name == "ledger_freshness")
    database = InventoryDatabase(url=sqlite_url)

    def evaluate():
        with DagsterInstance.ephemeral() as instance:
            context = build_sensor_context(instance=instance, resources={"database": database})
            (event,) = sensor(context).asset_events
        return event

    fresh = evaluate()
    assert fresh.check_name == "every_account_fresh" and fresh.partition is None
    assert fresh.metadata["main_fresh"].value is True and fresh.metadata["second_fresh"].value is False
    assert not fresh.passed and "second: " in fresh.description and "never synced" in fresh.description
    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=9)
    with sqlite_pipeline.engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.marketplace == "wb").values(last_synced_at=old))
    stale = evaluate()
    assert stale.metadata["main_fresh"].value is False and "wb (9.0 h)" in stale.description


def test_schedule_crons_can_be_replaced_by_name(monkeypatch):
    monkeypatch.setenv("SCHEDULE_CRONS", "health_check_hourly=*/5 * * * *; stock_sync_every_6h=0 9,18 * * *")
    schedules = {s.name: s for s in build_definitions(load_settings()).schedules}
    assert schedules["health_check_hourly"].cron_schedule == "*/5 * * * *"
    assert schedules["stock_sync_every_6h"].cron_schedule == "0 9,18 * * *"
    assert all(s.description for s in schedules.values())
    monkeypatch.setenv("SCHEDULE_CRONS", "health_check_daily=0 * * * *")
    with pytest.raises(SettingsError, match="health_check_daily"):
        build_definitions(load_settings())


def test_dg_checks_the_definitions_and_refuses_a_mistyped_account_before_any_run(tmp_path, sqlite_url):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "INVENTORY_DB_URL": sqlite_url}
    dg = str(Path(sys.executable).with_name("dg"))
    checked = subprocess.run(
        [dg, "check", "defs"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert checked.returncode == 0 and "All definitions loaded successfully" in checked.stdout + checked.stderr
    typo = subprocess.run(
        [dg, "launch", "--job", "stock_sync_ozon", "--partition", "mian"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert typo.returncode != 0 and "Could not find a partition with key `mian`" in typo.stdout + typo.stderr
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_runs() == []


def test_the_ledger_kind_names_the_configured_database(monkeypatch):
    monkeypatch.setenv("INVENTORY_DB_URL", "mysql+pymysql://u@db/inventory")
    ledger = build_definitions(load_settings()).resolve_assets_def("inventory_data")
    assert "mysql" in ledger.specs_by_key[ledger.key].kinds and "sqlite" not in ledger.specs_by_key[ledger.key].kinds
    monkeypatch.setenv("INVENTORY_DB_URL", "sqlite:///x.db")
    ledger = build_definitions(load_settings()).resolve_assets_def("inventory_data")
    assert ledger.specs_by_key[ledger.key].kinds == {"sqlite"}
    report = build_definitions(load_settings()).resolve_assets_def("weekly_report")
    assert {d.asset_key.path[-1] for d in report.specs_by_key[report.key].deps} >= {"inventory_data", "wix_stock_push"}


def test_the_ledger_shows_every_writer_as_its_upstream(monkeypatch):
    """Each source's slice feeds inventory_data, and so does haier_stock once a Haier account writes its
    slice (without one, the UI would warn on every launch that haier_stock was never materialized)."""
    monkeypatch.delenv("HAIER_CLIENT_ID", raising=False)

    def upstream() -> set[str]:
        ledger = build_definitions(load_settings()).resolve_assets_def("inventory_data")
        return {d.asset_key.path[-1] for d in ledger.specs_by_key[ledger.key].deps}

    assert upstream() == {"ozon_ledger_slice", "wb_ledger_slice"}
    monkeypatch.setenv("HAIER_CLIENT_ID", "client")
    monkeypatch.setenv("HAIER_CLIENT_SECRET", "secret")
    assert upstream() == {"ozon_ledger_slice", "wb_ledger_slice", "haier_stock"}


def test_every_asset_has_an_owner_and_every_check_on_an_account_is_per_account():
    defs = build_definitions(load_settings())
    for spec in defs.resolve_all_asset_specs():
        assert spec.owners, spec.key
    partitioned = {"ozon_stock_snapshot", "wb_stock_snapshot", "inventory_data", "stock_anomalies"}
    for key in partitioned:
        for check in defs.resolve_assets_def(key).check_specs:
            if check.name != "every_account_fresh":
                assert check.partitions_def is not None, (key, check.name)


@pytest.mark.parametrize(
    ("schedule_name", "tick", "day"),
    [
        # 03:20 in Novosibirsk is 23:20 Moscow: still the 23rd, whose last hour must be read.
        ("sales_today_hourly", datetime(2026, 11, 24, 3, 20, tzinfo=ZoneInfo("Asia/Novosibirsk")), "2026-11-23"),
        ("sales_today_hourly", datetime(2026, 11, 24, 4, 20, tzinfo=ZoneInfo("Asia/Novosibirsk")), "2026-11-24"),
        # The daily run at 03:00 Novosibirsk (23:00 Moscow on the 23rd) finalizes the 22nd, not the 23rd.
        ("sales_yesterday_daily", datetime(2026, 11, 24, 3, 0, tzinfo=ZoneInfo("Asia/Novosibirsk")), "2026-11-22"),
    ],
)
def test_sales_schedules_read_moscow_days_whatever_the_pipeline_zone(monkeypatch, schedule_name, tick, day):
    monkeypatch.setenv("PIPELINE_TIMEZONE", "Asia/Novosibirsk")
    defs = build_definitions(load_settings())
    schedule = next(s for s in defs.schedules if s.name == schedule_name)
    with DagsterInstance.ephemeral() as instance:
        requests = list(schedule(build_schedule_context(instance=instance, scheduled_execution_time=tick)))
    assert {r.partition_key.keys_by_dimension["date"] for r in requests} == {day}


def test_alert_sensors_say_why_they_are_off(monkeypatch):
    for name in ("SMTP_HOST", "ALERT_EMAIL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID", "NOTIFY_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    sensors = {s.name: s for s in build_definitions(load_settings()).sensors}
    for name in ("alert_on_run_failure", "alert_on_check_failure"):
        assert sensors[name].default_status.value == "STOPPED"
        assert "Off: no channel is configured; set SMTP_HOST" in sensors[name].description
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    sensors = {s.name: s for s in build_definitions(load_settings()).sensors}
    assert sensors["alert_on_run_failure"].default_status.value == "RUNNING"
    assert "Off" not in sensors["alert_on_run_failure"].description
