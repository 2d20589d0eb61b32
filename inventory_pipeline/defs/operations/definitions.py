"""The operations domain: the hourly health check, the daily backup and history retention."""

from dagster import Definitions, define_asset_job, job

from inventory_pipeline import scheduling
from inventory_pipeline.defs.operations.health import NAME, build_health_asset
from inventory_pipeline.defs.operations.housekeeping import build_housekeeping_ops
from inventory_pipeline.settings import Settings


def build_defs(settings: Settings) -> Definitions:
    back_up_inventory, apply_history_retention = build_housekeeping_ops(settings)

    @job(description="Daily: back up the inventory database (7 days kept) and apply history retention.")
    def backup_and_retention() -> None:
        back_up_inventory()
        apply_history_retention()

    return Definitions(
        assets=[build_health_asset(settings)],
        jobs=[
            define_asset_job(
                "health_check",
                selection=[NAME],
                description="Hourly: every account's API credentials, Wix and Haier, the database, the daemon and "
                "each account's recent syncs, each a check on service_health's page.",
            ),
            backup_and_retention,
        ],
        schedules=[
            scheduling.every(
                settings, "backup_daily_0130", "backup_and_retention", "30 1 * * *", "Database backup and retention."
            ),
            scheduling.every(
                settings,
                "health_check_hourly",
                "health_check",
                "0 * * * *",
                "APIs, database, daemon and recent syncs.",
            ),
        ],
    )
