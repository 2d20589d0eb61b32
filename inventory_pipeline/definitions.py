"""The one Definitions object of the code location. It assembles; the logic lives elsewhere."""

from __future__ import annotations

from dagster import Definitions, StaticPartitionsDefinition

from inventory_pipeline.assets.events import build_anomalies_asset, build_events_asset
from inventory_pipeline.assets.inventory import build_inventory_asset
from inventory_pipeline.assets.marketplaces import build_snapshot_asset
from inventory_pipeline.assets.report import build_report_asset
from inventory_pipeline.assets.sales import build_sales_assets
from inventory_pipeline.assets.supplier import build_supplier_assets
from inventory_pipeline.assets.wix import build_wix_assets
from inventory_pipeline.jobs import build_jobs
from inventory_pipeline.resources import build_resources
from inventory_pipeline.schedules import build_schedules
from inventory_pipeline.sensors import build_alert_sensors, build_freshness_sensor
from inventory_pipeline.settings import Settings, load_settings


def build_definitions(settings: Settings) -> Definitions:
    accounts = StaticPartitionsDefinition(settings.accounts)
    ozon = build_snapshot_asset("ozon", accounts, settings)
    wb = build_snapshot_asset("wb", accounts, settings)
    ledger = build_inventory_asset(accounts, settings, [ozon, wb])
    wix = build_wix_assets(settings, ledger)
    supplier = build_supplier_assets(settings)
    sales = build_sales_assets(settings, ledger)
    events = build_events_asset(settings, accounts, ledger)
    anomalies = build_anomalies_asset(settings, accounts, ledger)
    # The report reads the ledger, its anomalies and events, and the Wix push log.
    report = build_report_asset(settings, [ledger, anomalies, events, wix["wix_stock_push"]])
    jobs = build_jobs(settings, accounts, ozon, wb, ledger, wix, sales, [events, anomalies], report)
    resources = build_resources(settings)
    return Definitions(
        assets=[ozon, wb, ledger, events, anomalies, report, *wix.values(), *supplier, *sales],
        jobs=list(jobs.values()),
        schedules=build_schedules(settings, jobs),
        sensors=[build_freshness_sensor(settings), *build_alert_sensors(settings)],
        resources=resources,
    )


defs = build_definitions(load_settings())
