"""The cron stock-sync service's cron table as Dagster schedules, on by default, in ``PIPELINE_TIMEZONE``."""

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

from inventory_pipeline.settings import Settings, SettingsError

STOCK_CRONS = {
    "all": ("stock_sync_every_6h", "0 */6 * * *", "Ozon and Wildberries into the ledger, every account."),
    "ozon": ("ozon_stock_sync_every_4h", "0 */4 * * *", "Ozon into the ledger, every account."),
    "wb": ("wb_stock_sync_every_4h_at_30", "30 */4 * * *", "Wildberries into the ledger, every account."),
    "full_resync": ("full_resync_sundays_0200", "0 2 * * 0", "Full resync, every account: corrupt rows removed."),
}
SALES_CRONS = {
    "sales_yesterday_daily": ("0 3 * * *", 1, "Yesterday's sales, final, every account."),
    "sales_today_hourly": ("20 * * * *", 0, "Today's sales so far, every account."),
}


def simple_schedules(settings: Settings) -> tuple[tuple[str, str, str, bool, str], ...]:
    """(name, job key, cron, on when, description) of every schedule that launches one unpartitioned run."""
    return (
        ("sales_analysis_daily", "sales_analysis", "30 4 * * *", True, "Sales analysis and product status."),
        ("weekly_report_mondays_0900", "weekly_report", "0 9 * * 1", True, "The weekly report, mailed."),
        ("backup_daily_0130", "backup", "30 1 * * *", True, "Database backup and retention."),
        ("health_check_hourly", "health", "0 * * * *", True, "APIs, database, daemon and recent syncs."),
        ("wix_push_hourly", "wix_push", "15 * * * *", settings.wix_site_configured, "The ledger's stock to Wix."),
        (
            "haier_catalogue_daily_0200",
            "haier_catalogue",
            "0 2 * * *",
            settings.haier_configured,
            "Haier's catalogue, incremental.",
        ),
        ("haier_prices_hourly", "haier_prices", "0 * * * *", settings.haier_configured, "Haier's prices."),
        ("haier_stock_every_30_min", "haier_stock", "*/30 * * * *", settings.haier_configured, "Haier's stock."),
    )


def _cron(settings: Settings, name: str, cron: str) -> str:
    return settings.schedule_crons.get(name, cron)


def build_schedules(settings: Settings, jobs: dict) -> list[ScheduleDefinition]:
    status = DefaultScheduleStatus.RUNNING if settings.schedules_running else DefaultScheduleStatus.STOPPED

    def per_account(job_key: str):
        name, cron, description = STOCK_CRONS[job_key]

        @schedule(
            name=name,
            job=jobs[job_key],
            cron_schedule=_cron(settings, name, cron),
            execution_timezone=settings.timezone,
            default_status=status,
            description=description,
        )
        def _each_account(context: ScheduleEvaluationContext):
            tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "manual"
            for account in settings.accounts:
                yield RunRequest(run_key=f"{name}:{tick}:{account}", partition_key=account)

        return _each_account

    def sales_day(name: str):
        cron, days_back, description = SALES_CRONS[name]

        @schedule(
            name=name,
            job=jobs["sales"],
            cron_schedule=_cron(settings, name, cron),
            execution_timezone=settings.timezone,
            default_status=status,
            description=description,
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

    schedules = [
        *(per_account(key) for key in STOCK_CRONS),
        *(sales_day(name) for name in SALES_CRONS),
        *(
            ScheduleDefinition(
                name=name,
                job=jobs[key],
                cron_schedule=_cron(settings, name, cron),
                execution_timezone=settings.timezone,
                default_status=status if configured else DefaultScheduleStatus.STOPPED,
                description=description,
            )
            for name, key, cron, configured, description in simple_schedules(settings)
        ),
    ]
    unknown = set(settings.schedule_crons) - {s.name for s in schedules}
    if unknown:
        raise SettingsError(
            f"SCHEDULE_CRONS names no schedule {sorted(unknown)}; schedules: {sorted(s.name for s in schedules)}"
        )
    return schedules
