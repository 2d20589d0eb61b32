"""The supplier domain: Haier's catalogue, prices, stock per county and images (the Haier Django
sync)."""

from dagster import AssetSelection, Definitions, define_asset_job

from inventory_pipeline import scheduling
from inventory_pipeline.defs.supplier.assets import build_supplier_assets
from inventory_pipeline.settings import Settings


def build_defs(settings: Settings) -> Definitions:
    on = settings.haier_configured
    return Definitions(
        assets=build_supplier_assets(settings),
        jobs=[
            define_asset_job(
                "haier_catalogue_sync",
                selection=AssetSelection.groups("supplier"),
                description="Haier catalogue with prices, stock and images (the old service's --sync-prices "
                "--sync-stock).",
            ),
            define_asset_job(
                "haier_prices_sync",
                selection=AssetSelection.assets("haier_prices"),
                description="Haier prices (the old service's --sync-prices).",
            ),
            define_asset_job(
                "haier_stock_sync",
                selection=AssetSelection.assets("haier_stock"),
                description="Haier stock per county (the old service's --sync-stock --county-code).",
            ),
        ],
        schedules=[
            scheduling.every(
                settings,
                "haier_catalogue_daily_0200",
                "haier_catalogue_sync",
                "0 2 * * *",
                "Haier's catalogue, incremental.",
                on,
            ),
            scheduling.every(settings, "haier_prices_hourly", "haier_prices_sync", "0 * * * *", "Haier's prices.", on),
            scheduling.every(
                settings, "haier_stock_every_30_min", "haier_stock_sync", "*/30 * * * *", "Haier's stock.", on
            ),
        ],
    )
