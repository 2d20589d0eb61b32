"""Seed 001's cron table as Dagster schedules, on by default, in ``PIPELINE_TIMEZONE``."""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from inventory_pipeline.settings import Settings

STOCK_CRONS = {
    "all": ("stock_sync_every_6h", "0 */6 * * *"),
    "ozon": ("ozon_stock_sync_every_4h", "0 */4 * * *"),
    "wb": ("wb_stock_sync_every_4h_at_30", "30 */4 * * *"),
    "full_resync": ("full_resync_sundays_0200", "0 2 * * 0"),
}


def build_schedules(settings: Settings, jobs: dict) -> list[ScheduleDefinition]:
    status = DefaultScheduleStatus.RUNNING if settings.schedules_running else DefaultScheduleStatus.STOPPED

    def per_account(job_key: str):
        name, cron = STOCK_CRONS[job_key]

        @schedule(
            name=name,
            job=jobs[job_key],
            cron_schedule=cron,
            execution_timezone=settings.timezone,
            default_status=status,
        )
        def _each_account(context: ScheduleEvaluationContext):
            tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "manual"
            for account in settings.accounts:
                yield RunRequest(run_key=f"{name}:{tick}:{account}", partition_key=account)

        return _each_account

    return [
        *(per_account(key) for key in STOCK_CRONS),
        ScheduleDefinition(
            name="health_check_hourly",
            job=jobs["health"],
            cron_schedule="0 * * * *",
            execution_timezone=settings.timezone,
            default_status=status,
        ),
    ]
