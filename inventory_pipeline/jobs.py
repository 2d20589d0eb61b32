"""Jobs: the cron stock-sync service's cron commands, the Dagster way."""

from __future__ import annotations

from dagster import AssetsDefinition, AssetSelection, JobDefinition, StaticPartitionsDefinition, define_asset_job, job
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from inventory_pipeline.assets.inventory import FULL_RESYNC_TAG
from inventory_pipeline.operations import (
    apply_history_retention,
    back_up_inventory,
    build_dry_run_op,
    build_health_op,
    check_recent_syncs,
    check_schedules_running,
    rollback_wix_push,
)
from inventory_pipeline.settings import Settings


def build_jobs(
    settings: Settings,
    partitions: StaticPartitionsDefinition,
    ozon: AssetsDefinition,
    wb: AssetsDefinition,
    ledger: AssetsDefinition,
    wix: dict[str, AssetsDefinition],
    sales: list[AssetsDefinition],
    monitoring: list[AssetsDefinition],
    report: AssetsDefinition,
) -> dict[str, UnresolvedAssetJobDefinition | JobDefinition]:
    health_op = build_health_op(settings)
    dry_run_op = build_dry_run_op(settings)

    # The push rides in the sync job when a Wix site is configured, so a failed snapshot check stops it.
    pushed = list(wix.values()) if settings.wix_site_configured else []

    @job(description="Daily: back up the inventory database (7 days kept) and apply history retention.")
    def backup_and_retention() -> None:
        back_up_inventory()
        apply_history_retention()

    @job(description="Undo the Wix quantities one run changed (config: run_id).")
    def wix_rollback() -> None:
        rollback_wix_push()

    @job(description="Hourly: every API accepts its credentials, the database is reachable and migrated.")
    def health_check() -> None:
        health_op()
        check_schedules_running()
        check_recent_syncs()

    @job(
        description="Fetch and normalize like a sync and report what would change; write nothing "
        "(the old service's --test-mode)."
    )
    def stock_sync_dry_run() -> None:
        dry_run_op()

    return {
        "all": define_asset_job(
            "stock_sync_all_sources",
            selection=[ozon, wb, ledger, *monitoring, *pushed],
            partitions_def=partitions,
            description="Ozon and Wildberries snapshots into the ledger, then the Wix push when a site is "
            "configured (the old service's --source=all).",
        ),
        "ozon": define_asset_job(
            "stock_sync_ozon",
            selection=[ozon, ledger, *monitoring],
            partitions_def=partitions,
            description="Ozon snapshot into the ledger (the old service's --source=ozon).",
        ),
        "wb": define_asset_job(
            "stock_sync_wb",
            selection=[wb, ledger, *monitoring],
            partitions_def=partitions,
            description="Wildberries snapshot into the ledger (the old service's --source=wb).",
        ),
        "full_resync": define_asset_job(
            "stock_full_resync",
            selection=[ozon, wb, ledger],
            partitions_def=partitions,
            tags={FULL_RESYNC_TAG: "true"},
            description="Reload everything and remove corrupt rows, one transaction per source "
            "(the old service's --full-resync).",
        ),
        "wix_push": define_asset_job(
            "wix_stock_push_job",
            selection=AssetSelection.groups("wix"),
            description="Plan and push the ledger's stock to Wix (the old service's hourly Celery "
            "task and POST /warehouse/sync-wix/).",
        ),
        "wix_plan": define_asset_job(
            "wix_stock_plan_only",
            selection=AssetSelection.assets("wix_stock_plan"),
            description="Dry run: build and show the Wix plan, write nothing.",
        ),
        "wix_rollback": wix_rollback,
        "sales": define_asset_job(
            "sales_daily",
            selection=AssetSelection.assets("ozon_sales", "wb_sales"),
            partitions_def=next(a for a in sales if a.key.path[-1] == "ozon_sales").partitions_def,
            description="Ozon and Wildberries sales of one day and account (backfillable).",
        ),
        "sales_analysis": define_asset_job(
            "sales_analysis_job",
            selection=AssetSelection.assets("sales_analysis", "product_status"),
            description="Sales analysis and product status.",
        ),
        "haier_catalogue": define_asset_job(
            "haier_catalogue_sync",
            selection=AssetSelection.groups("supplier"),
            description="Haier catalogue with prices, stock and images (the old service's --sync-prices --sync-stock).",
        ),
        "haier_prices": define_asset_job(
            "haier_prices_sync",
            selection=AssetSelection.assets("haier_prices"),
            description="Haier prices (the old service's --sync-prices).",
        ),
        "haier_stock": define_asset_job(
            "haier_stock_sync",
            selection=AssetSelection.assets("haier_stock"),
            description="Haier stock per county (the old service's --sync-stock --county-code).",
        ),
        "health": health_check,
        "backup": backup_and_retention,
        "weekly_report": define_asset_job(
            "weekly_report_job",
            selection=[report],
            description="The cron stock-sync service's weekly report, Mondays 09:00.",
        ),
        "dry_run": stock_sync_dry_run,
    }
