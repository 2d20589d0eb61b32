"""The normalized stock ledger ``inventory_data`` (group ``inventory``)."""

from dagster import (
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    StaticPartitionsDefinition,
    asset,
)

from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.stock import ledger, snapshots
from inventory_pipeline.defs.stock.ledger_sync import (
    applied_figures,
    apply_snapshot,
    close_superseded,
    held_back,
    skip_reason,
    slice_figures,
    verdicts,
)
from inventory_pipeline.settings import Settings

LEDGER_CHECKS = {
    "no_negative_stock": ("No row with negative stock or reserve.", AssetCheckSeverity.ERROR),
    "stock_within_limit": (
        "No row above MAX_STOCK_VALUE units (the cron stock-sync service's anomaly query).",
        AssetCheckSeverity.WARN,
    ),
    "fresh_per_source": ("Each source of this account synced within MAX_SYNC_AGE_HOURS.", AssetCheckSeverity.ERROR),
}


# Set by the stock_full_resync job on every run it makes, however launched (UI, schedule, CLI,
# backfill): run config given at launch would replace a job's default config, a job tag cannot be lost.
FULL_RESYNC_TAG = "inventory/full_resync"


class LedgerConfig(Config):
    full_resync: bool = False
    """Re-apply the newest accepted snapshots even if applied, after deleting corrupt rows (as the cron
    stock-sync service did)."""


def build_inventory_asset(
    partitions: StaticPartitionsDefinition, settings: Settings, upstream: list[AssetsDefinition]
) -> AssetsDefinition:
    sources = {"ozon": settings.ozon_accounts, "wb": settings.wb_accounts}

    @asset(
        name="inventory_data",
        group_name="inventory",
        partitions_def=partitions,
        deps=upstream,
        required_resource_keys={"database"},
        kinds={settings.database_kind},
        check_specs=[AssetCheckSpec(n, asset="inventory_data", description=d) for n, (d, _) in LEDGER_CHECKS.items()],
        description="The stock ledger: one row per source, seller account, SKU, warehouse and stock type with "
        "present, reserved and available units, kept equal to the newest accepted snapshots.",
    )
    def inventory_data(context: AssetExecutionContext, config: LedgerConfig) -> MaterializeResult:
        account = context.partition_key
        engine = context.resources.database.engine
        full_resync = config.full_resync or context.run.tags.get(FULL_RESYNC_TAG) == "true"
        mine = [s for s, accounts in sources.items() if account in accounts]
        metadata: dict = {"full_resync": full_resync}
        applied: list[str] = []
        applied_health: dict[str, ledger.SliceHealth | None] = {}
        for source in mine:
            snapshot = snapshots.latest(engine, source, account)
            note = skip_reason(snapshot, full_resync)
            if note:
                metadata[f"{source}_note"] = note
                close_superseded(engine, source, account, context.run_id, note)
                continue
            result = apply_snapshot(engine, snapshot, context.run_id, full_resync, settings.max_stock_value)
            applied_health[source] = result.health
            applied.append(source)
            metadata.update(applied_figures(snapshot, result))
            context.log.info(
                f"{source}/{account}: {result.staged} rows from snapshot {snapshot.id}: "
                f"{result.inserted} new, {result.changed} changed, {result.zeroed} set to zero"
                + (f"; every row compared with the ledger: {result.not_compared}" if result.not_compared else "")
            )
        held = held_back(snapshots.statuses_of_run(engine, context.run_id))
        if held:
            raise Failure(
                description="; ".join(f"{s} snapshot {why}" for s, why in held.items())
                + f" — its ledger slice is unchanged{'; the other sources were applied' if applied else ''}.",
                metadata={**metadata, **{f"{s}_held_back": why[:500] for s, why in held.items()}},
            )
        # The applied slices' health came with their apply (one scan each); the others are read here.
        health = [
            applied_health.get(s) or ledger.slice_health(engine, s, account, settings.max_stock_value) for s in mine
        ]
        synced = ledger.freshness(engine)
        found = verdicts(
            health,
            {s: synced.get((s, account)) for s in mine},
            utcnow(),
            settings.max_stock_value,
            settings.max_sync_age_hours,
        )
        return MaterializeResult(
            metadata={**metadata, **slice_figures(health)},
            check_results=[v.result(LEDGER_CHECKS[v.check][1]) for v in found],
        )

    return inventory_data
