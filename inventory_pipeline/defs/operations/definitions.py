"""The operations domain: the hourly health check, the daily backup and history retention."""

from dagster import Definitions, job

from inventory_pipeline import scheduling
from inventory_pipeline.defs.operations.health import build_health_op, build_recent_syncs_op, check_schedules_running
from inventory_pipeline.defs.operations.housekeeping import build_housekeeping_ops
from inventory_pipeline.settings import Settings


def build_defs(settings: Settings) -> Definitions:
    health_op, check_recent_syncs = build_health_op(settings), build_recent_syncs_op(settings)
    back_up_inventory, apply_history_retention = build_housekeeping_ops(settings)

    @job(description="Hourly: every API accepts its credentials, the database is reachable and migrated.")
    def health_check() -> None:
        health_op()
        check_schedules_running()
        check_recent_syncs()

    @job(description="Daily: back up the inventory database (7 days kept) and apply history retention.")
    def backup_and_retention() -> None:
        back_up_inventory()
        apply_history_retention()

    return Definitions(
        jobs=[health_check, backup_and_retention],
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
