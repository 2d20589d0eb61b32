"""The monitoring domain: stock events and anomalies after each sync, ledger freshness, failure
alerts and the weekly report (the cron stock-sync service's monitor, the Stock Service's events)."""

from dagster import Definitions, StaticPartitionsDefinition, define_asset_job

from inventory_pipeline import scheduling
from inventory_pipeline.defs.monitoring.assets import build_anomalies_asset, build_events_asset
from inventory_pipeline.defs.monitoring.report import build_report_asset
from inventory_pipeline.defs.monitoring.sensors import build_alert_sensors, build_freshness_sensor
from inventory_pipeline.settings import Settings


def build_defs(settings: Settings, partitions: StaticPartitionsDefinition) -> Definitions:
    return Definitions(
        assets=[
            build_events_asset(settings, partitions),
            build_anomalies_asset(settings, partitions),
            build_report_asset(settings),
        ],
        jobs=[
            define_asset_job(
                "weekly_report_job",
                selection=["weekly_report"],
                description="The cron stock-sync service's weekly report, Mondays 09:00.",
            )
        ],
        schedules=[
            scheduling.every(
                settings, "weekly_report_mondays_0900", "weekly_report_job", "0 9 * * 1", "The weekly report, mailed."
            )
        ],
        sensors=[build_freshness_sensor(settings), *build_alert_sensors(settings)],
    )
