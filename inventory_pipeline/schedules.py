"""Seed 001's cron table as Dagster schedules, on by default, in ``PIPELINE_TIMEZONE``."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    DefaultScheduleStatus,
    MultiPartitionKey,
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


def simple_schedules(settings: Settings) -> tuple[tuple[str, str, str, bool], ...]:
    """(name, job key, cron, on when) of every schedule that launches one unpartitioned run."""
    return (
        ("sales_analysis_daily", "sales_analysis", "30 4 * * *", True),
        ("weekly_report_mondays_0900", "weekly_report", "0 9 * * 1", True),
        ("backup_daily_0130", "backup", "30 1 * * *", True),
        ("health_check_hourly", "health", "0 * * * *", True),
        ("wix_push_hourly", "wix_push", "15 * * * *", settings.wix_site_configured),
        ("haier_catalogue_daily_0200", "haier_catalogue", "0 2 * * *", settings.haier_configured),
        ("haier_prices_hourly", "haier_prices", "0 * * * *", settings.haier_configured),
        ("haier_stock_every_30_min", "haier_stock", "*/30 * * * *", settings.haier_configured),
    )


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

    def sales_day(name: str, cron: str, days_back: int):
        @schedule(
            name=name,
            job=jobs["sales"],
            cron_schedule=cron,
            execution_timezone=settings.timezone,
            default_status=status,
        )
        def _sales(context: ScheduleEvaluationContext):
            tick = context.scheduled_execution_time or datetime.now(ZoneInfo(settings.timezone))
            day = (tick.astimezone(ZoneInfo(settings.timezone)) - timedelta(days=days_back)).date().isoformat()
            for account in settings.accounts:
                yield RunRequest(
                    run_key=f"{name}:{tick.isoformat()}:{account}",
                    partition_key=MultiPartitionKey({"date": day, "account": account}),
                )

        return _sales

    return [
        *(per_account(key) for key in STOCK_CRONS),
        sales_day("sales_yesterday_daily", "0 3 * * *", 1),
        sales_day("sales_today_hourly", "20 * * * *", 0),
        *(
            ScheduleDefinition(
                name=name,
                job=jobs[key],
                cron_schedule=cron,
                execution_timezone=settings.timezone,
                default_status=status if configured else DefaultScheduleStatus.STOPPED,
            )
            for name, key, cron, configured in simple_schedules(settings)
        ),
    ]
