"""Run-failure and check-failure alerts: delivered once, repeats summarized, never a storm."""

from __future__ import annotations

from datetime import timedelta

from dagster import DagsterEventType, build_run_status_sensor_context, build_sensor_context
from sqlalchemy import select, update

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.tables import event_dedupe, notifications
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline_tests.support.pipeline import make_pipeline
from inventory_pipeline_tests.test_wix_push import _receiver


def sensors(p):
    return {s.name: s for s in p.defs.sensors}


def test_run_failures_alert_once_and_summarize_repeats(monkeypatch, sandbox, sqlite_url):
    received: list[dict] = []
    server = _receiver(received)
    url = f"http://127.0.0.1:{server.server_port}/"
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, NOTIFY_WEBHOOK_URL=url, OZON_API_KEY="wrong")
    resources = {"database": InventoryDatabase(url=sqlite_url), "notifier": NotifierResource(webhook_url=url)}
    sensor = sensors(p)["alert_on_run_failure"]

    def fail_and_sense():
        result = p.run("stock_sync_ozon")
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
        run = p.instance.get_run_by_id(result.run_id)
        sensor(
            build_run_status_sensor_context(
                sensor_name=sensor.name,
                dagster_event=failure,
                dagster_instance=p.instance,
                dagster_run=run,
                resources=resources,
            )
        )
        return result.run_id

    first = fail_and_sense()
    fail_and_sense()
    fail_and_sense()
    assert [r["job"] for r in received] == ["stock_sync_ozon"]
    assert received[0]["link"].endswith(f"/runs/{first}")
    with p.engine.begin() as conn:  # an hour later
        conn.execute(update(event_dedupe).values(last_sent_at=utcnow() - timedelta(hours=2)))
    fail_and_sense()
    assert len(received) == 2 and received[1]["suppressed_since_last"] == 2
    server.shutdown()


def test_failed_checks_alert_from_the_event_log(monkeypatch, sandbox, sqlite_url):
    received: list[dict] = []
    server = _receiver(received)
    url = f"http://127.0.0.1:{server.server_port}/"
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, NOTIFY_WEBHOOK_URL=url)
    resources = {"database": InventoryDatabase(url=sqlite_url), "notifier": NotifierResource(webhook_url=url)}
    sensor = sensors(p)["alert_on_check_failure"]
    first_tick = build_sensor_context(instance=p.instance, resources=resources)
    sensor(first_tick)  # starts watching from now
    assert p.run().success
    p.faults("empty@/ozon/v4/product/info/stocks")
    assert not p.run().success
    tick = build_sensor_context(instance=p.instance, resources=resources, cursor=first_tick.cursor)
    sensor(tick)
    checks = sorted(r["check"] for r in received)
    assert checks == ["ozon_stock_snapshot.enough_products", "ozon_stock_snapshot.no_collapse"]
    with p.engine.connect() as conn:
        assert conn.execute(
            select(notifications.c.delivered).where(notifications.c.event_type == "CheckFailure")
        ).scalars().all() == ["webhook", "webhook"]
    server.shutdown()
