"""The sales domain: Ozon and Wildberries sales per day and account, their analysis, and each
product's status (the Stock Service's sales side)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    AssetSelection,
    Definitions,
    MultiPartitionKey,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from inventory_pipeline import scheduling
from inventory_pipeline.clock import MARKETPLACE_ZONE
from inventory_pipeline.defs.sales.assets import build_sales_assets, sales_partitions
from inventory_pipeline.settings import Settings

# schedule name: (cron, days back from the tick, description); each tick asks for one run per account.
DAYS = {
    "sales_yesterday_daily": ("0 3 * * *", 1, "Yesterday's sales, final, every account."),
    "sales_today_hourly": ("20 * * * *", 0, "Today's sales so far, every account."),
}


def tick_day(tick: datetime, days_back: int) -> str:
    """The marketplace day a tick reads: its Moscow day, whatever zone the schedules run in (with
    Asia/Novosibirsk, "today" turned at 20:00 Moscow and 23:00–24:00 Moscow was never read)."""
    return (tick.astimezone(MARKETPLACE_ZONE) - timedelta(days=days_back)).date().isoformat()


def day_schedule(settings: Settings, name: str) -> ScheduleDefinition:
    default_cron, days_back, description = DAYS[name]
    zone = ZoneInfo(settings.timezone)

    @schedule(
        name=name,
        job_name="sales_daily",
        cron_schedule=scheduling.cron(settings, name, default_cron),
        execution_timezone=settings.timezone,
        default_status=scheduling.default_status(settings),
        description=description,
    )
    def _sales(context: ScheduleEvaluationContext):
        tick = context.scheduled_execution_time or datetime.now(zone)
        day = tick_day(tick, days_back)
        for account in settings.accounts:
            yield RunRequest(
                run_key=f"{name}:{tick.isoformat()}:{account}",
                partition_key=MultiPartitionKey({"date": day, "account": account}),
            )

    return _sales


def build_defs(settings: Settings) -> Definitions:
    return Definitions(
        assets=build_sales_assets(settings),
        jobs=[
            define_asset_job(
                "sales_daily",
                selection=AssetSelection.assets("ozon_sales", "wb_sales"),
                partitions_def=sales_partitions(settings),
                description="Ozon and Wildberries sales of one day and account (backfillable).",
            ),
            define_asset_job(
                "sales_analysis_job",
                selection=AssetSelection.assets("sales_analysis", "product_status"),
                description="Sales analysis and product status.",
            ),
        ],
        schedules=[
            *(day_schedule(settings, name) for name in DAYS),
            scheduling.every(
                settings,
                "sales_analysis_daily",
                "sales_analysis_job",
                "30 4 * * *",
                "Sales analysis and product status.",
            ),
        ],
    )
