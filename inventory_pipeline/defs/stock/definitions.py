"""The stock domain: marketplace snapshots into the ledger (the cron stock-sync service's sync
commands and cron table)."""

from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetSelection,
    Definitions,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    StaticPartitionsDefinition,
    define_asset_job,
    job,
    schedule,
)

from inventory_pipeline import scheduling
from inventory_pipeline.defs.stock.dry_run import build_dry_run_op
from inventory_pipeline.defs.stock.inventory_asset import (
    EVERY_ACCOUNT_FRESH,
    build_every_account_fresh,
    build_inventory_asset,
)
from inventory_pipeline.defs.stock.slice_assets import build_slice_asset
from inventory_pipeline.defs.stock.snapshot_assets import FULL_RESYNC_TAG, build_snapshot_asset
from inventory_pipeline.settings import Settings

# The all-accounts freshness is the sensor's to judge between runs, not one account's run's.
LEDGER = AssetSelection.assets("inventory_data") - AssetSelection.checks(
    AssetCheckKey(AssetKey("inventory_data"), EVERY_ACCOUNT_FRESH)
)


def synced(*sources: str) -> AssetSelection:
    """Each source's snapshot and ledger slice, then the ledger."""
    return AssetSelection.assets(*(f"{s}_stock_snapshot" for s in sources), *(f"{s}_ledger_slice" for s in sources))


# The ledger's monitoring runs with every sync, so its events and anomalies follow each change.
MONITORED = LEDGER | AssetSelection.assets("stock_events", "stock_anomalies")

# job name: (schedule name, cron, description); each tick asks for one run per seller account.
PER_ACCOUNT = {
    "stock_sync_all_sources": (
        "stock_sync_every_6h",
        "0 */6 * * *",
        "Ozon and Wildberries into the ledger, every account.",
    ),
    "stock_sync_ozon": ("ozon_stock_sync_every_4h", "0 */4 * * *", "Ozon into the ledger, every account."),
    "stock_sync_wb": ("wb_stock_sync_every_4h_at_30", "30 */4 * * *", "Wildberries into the ledger, every account."),
    "stock_full_resync": (
        "full_resync_sundays_0200",
        "0 2 * * 0",
        "Full resync, every account: corrupt rows removed.",
    ),
}


def per_account_schedule(settings: Settings, job_name: str) -> ScheduleDefinition:
    name, default_cron, description = PER_ACCOUNT[job_name]

    @schedule(
        name=name,
        job_name=job_name,
        cron_schedule=scheduling.cron(settings, name, default_cron),
        execution_timezone=settings.timezone,
        default_status=scheduling.default_status(settings),
        description=description,
    )
    def _each_account(context: ScheduleEvaluationContext):
        tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "manual"
        for account in settings.accounts:
            yield RunRequest(run_key=f"{name}:{tick}:{account}", partition_key=account)

    return _each_account


def build_jobs(settings: Settings, partitions: StaticPartitionsDefinition) -> list:
    # The push rides in the sync job when a Wix site is configured, so a failed snapshot check stops it.
    pushed = AssetSelection.groups("wix") if settings.wix_site_configured else AssetSelection.assets()
    dry_run_op = build_dry_run_op(settings)

    @job(
        description="Fetch and normalize like a sync and report what would change; write nothing "
        "(the old service's --test-mode)."
    )
    def stock_sync_dry_run() -> None:
        dry_run_op()

    return [
        define_asset_job(
            "stock_sync_all_sources",
            selection=synced("ozon", "wb") | MONITORED | pushed,
            partitions_def=partitions,
            description="Ozon and Wildberries snapshots into the ledger, then the Wix push when a site is "
            "configured (the old service's --source=all).",
        ),
        define_asset_job(
            "stock_sync_ozon",
            selection=synced("ozon") | MONITORED,
            partitions_def=partitions,
            description="Ozon snapshot into the ledger (the old service's --source=ozon).",
        ),
        define_asset_job(
            "stock_sync_wb",
            selection=synced("wb") | MONITORED,
            partitions_def=partitions,
            description="Wildberries snapshot into the ledger (the old service's --source=wb).",
        ),
        define_asset_job(
            "stock_full_resync",
            selection=synced("ozon", "wb") | LEDGER,
            partitions_def=partitions,
            tags={FULL_RESYNC_TAG: "true"},
            description="Reload everything and remove corrupt rows, one transaction per source "
            "(the old service's --full-resync).",
        ),
        stock_sync_dry_run,
    ]


def build_defs(settings: Settings, partitions: StaticPartitionsDefinition) -> Definitions:
    snapshot_assets = {s: build_snapshot_asset(s, partitions, settings) for s in ("ozon", "wb")}
    slices = [build_slice_asset(s, partitions, settings, a) for s, a in snapshot_assets.items()]
    return Definitions(
        assets=[*snapshot_assets.values(), *slices, build_inventory_asset(partitions, settings, slices)],
        asset_checks=[build_every_account_fresh(settings)],
        jobs=build_jobs(settings, partitions),
        schedules=[per_account_schedule(settings, name) for name in PER_ACCOUNT],
    )
