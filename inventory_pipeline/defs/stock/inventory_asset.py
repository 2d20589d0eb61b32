"""The normalized stock ledger ``inventory_data`` (group ``inventory``): every source's slice of one
seller account, and the checks over it."""

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    StaticPartitionsDefinition,
    TableColumn,
    TableSchema,
    asset,
    asset_check,
)

from inventory_pipeline.assets.metadata import table
from inventory_pipeline.assets.partitions import account_check
from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.stock import changes, ledger
from inventory_pipeline.defs.stock.ledger_sync import every_account_fresh, fresh_for, slice_figures, verdicts
from inventory_pipeline.settings import Settings

EVERY_ACCOUNT_FRESH = "every_account_fresh"

LEDGER_CHECKS = {
    "no_negative_stock": ("No row with negative stock or reserve.", AssetCheckSeverity.ERROR),
    "stock_within_limit": (
        "No row above MAX_STOCK_VALUE units (the cron stock-sync service's anomaly query).",
        AssetCheckSeverity.WARN,
    ),
    "fresh_per_source": ("Each source of this account synced within MAX_SYNC_AGE_HOURS.", AssetCheckSeverity.ERROR),
}

COLUMNS = TableSchema(
    columns=[
        TableColumn("source", "string", "ozon, wb or haier"),
        TableColumn("account", "string", "the seller account (the partition)"),
        TableColumn("sku", "string", "the seller's SKU, exactly as the source spells it"),
        TableColumn("warehouse_id", "string", "the source's warehouse (a Haier county code)"),
        TableColumn("stock_type", "string", "fbo, fbs, rfbs or supplier"),
        TableColumn("product_id", "string", "the source's product id"),
        TableColumn("marketplace_sku", "string", "the source's own SKU or barcode"),
        TableColumn("warehouse_name", "string", "the warehouse's name"),
        TableColumn("current_stock", "int", "units present"),
        TableColumn("reserved_stock", "int", "units reserved for orders"),
        TableColumn("available_stock", "int", "units that can be sold"),
        TableColumn("last_sync_at", "datetime", "when the row's source last answered (UTC)"),
        TableColumn("updated_at", "datetime", "when the row's figures last changed (UTC)"),
        TableColumn("first_seen_at", "datetime", "when the row first appeared (UTC)"),
    ]
)


def build_inventory_asset(
    partitions: StaticPartitionsDefinition, settings: Settings, slices: list[AssetsDefinition]
) -> AssetsDefinition:
    specs = [account_check(n, "inventory_data", partitions, d) for n, (d, _) in LEDGER_CHECKS.items()]

    @asset(
        name="inventory_data",
        group_name="inventory",
        partitions_def=partitions,
        # haier_stock writes the supplier's slice of the same ledger, when a Haier account is configured.
        deps=[*slices, *(["haier_stock"] if settings.haier_configured else [])],
        required_resource_keys={"database"},
        kinds={settings.database_kind},
        check_specs=specs,
        metadata={"dagster/column_schema": COLUMNS, "dagster/table_name": "inventory_data"},
        description="The stock ledger of one seller account: one row per source, SKU, warehouse and stock type "
        "with present, reserved and available units. Each source's slice is kept equal to its newest accepted "
        "snapshot; what Wix, the events and the anomaly report read.",
    )
    def inventory_data(context: AssetExecutionContext) -> MaterializeResult:
        account = context.partition_key
        engine = context.resources.database.engine
        health = ledger.account_health(engine, account, settings.max_stock_value)
        found = [
            *verdicts(list(health.values()), settings.max_stock_value),
            fresh_for(engine, settings, account, utcnow()),
        ]
        rows, total = changes.largest(engine, None, account, context.run_id)
        return MaterializeResult(
            metadata={
                **slice_figures(list(health.values())),
                "largest_changes": table(rows, changes.CHANGE_COLUMNS, "_this run changed no row_", total),
                "slices": table(
                    [
                        {"source": s, "rows": h.rows, "units_present": f"{h.total_present:,}"}
                        for s, h in sorted(health.items())
                    ],
                    ["source", "rows", "units_present"],
                    empty="_the ledger holds nothing for this account yet_",
                ),
            },
            check_results=[v.result(LEDGER_CHECKS[v.check][1]) for v in found],
        )

    return inventory_data


def build_every_account_fresh(settings: Settings) -> AssetChecksDefinition:
    """Every account's freshness as one result, judged between runs by the ``ledger_freshness``
    sensor (Dagster keeps one run-less result per check and partition, so a partitioned check could
    be judged between runs only once)."""

    @asset_check(
        asset="inventory_data",
        name=EVERY_ACCOUNT_FRESH,
        required_resource_keys={"database"},
        description="Each source of each seller account synced within MAX_SYNC_AGE_HOURS; judged every "
        "FRESHNESS_CHECK_SECONDS by the ledger_freshness sensor, without a run.",
    )
    def every_account_fresh_check(context) -> AssetCheckResult:
        return every_account_fresh(context.resources.database.engine, settings, utcnow()).result()

    return every_account_fresh_check
