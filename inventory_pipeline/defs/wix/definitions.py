"""The Wix domain: the ledger's stock planned and pushed to the Wix store, and undone on request
(the Celery Wix push)."""

from dagster import AssetSelection, Definitions, define_asset_job, job

from inventory_pipeline import scheduling
from inventory_pipeline.defs.wix.assets import build_wix_assets
from inventory_pipeline.defs.wix.rollback import WIX_PUSHES, rollback_wix_push
from inventory_pipeline.settings import Settings


@job(
    partitions_def=WIX_PUSHES,
    description="Undo one push's Wix writes: pick the push from the list (each push that wrote is listed); "
    "its change is taken back from what Wix holds now, so sales made since stay counted.",
)
def wix_rollback() -> None:
    rollback_wix_push()


def build_defs(settings: Settings) -> Definitions:
    return Definitions(
        assets=build_wix_assets(settings),
        jobs=[
            define_asset_job(
                "wix_stock_push_job",
                selection=AssetSelection.groups("wix"),
                description="Plan and push the ledger's stock to Wix (the old service's hourly Celery "
                "task and POST /warehouse/sync-wix/).",
            ),
            define_asset_job(
                "wix_stock_plan_only",
                selection=AssetSelection.assets("wix_stock_plan"),
                description="Dry run: build and show the Wix plan, write nothing.",
            ),
            wix_rollback,
        ],
        schedules=[
            scheduling.every(
                settings,
                "wix_push_hourly",
                "wix_stock_push_job",
                "15 * * * *",
                "The ledger's stock to Wix.",
                configured=settings.wix_site_configured,
            )
        ],
    )
