"""Each source's slice of the stock ledger (group ``inventory``), made equal to its newest accepted
snapshot. A snapshot's blocking checks stand between it and its slice: a rejected snapshot stops
its own slice and nothing else, so another source's good answer still applies."""

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    asset,
)

from inventory_pipeline.assets.metadata import ident, table
from inventory_pipeline.defs.stock import changes, snapshots
from inventory_pipeline.defs.stock.ledger_sync import applied_figures, apply_snapshot, close_superseded, skip_reason
from inventory_pipeline.defs.stock.snapshot_assets import FULL_RESYNC_TAG, TITLES
from inventory_pipeline.settings import Settings


class LedgerConfig(Config):
    full_resync: bool = False
    """Re-apply the newest accepted snapshot even if applied, after deleting corrupt rows (as the cron
    stock-sync service did)."""


def build_slice_asset(
    source: str, partitions: StaticPartitionsDefinition, settings: Settings, snapshot: AssetsDefinition
) -> AssetsDefinition:
    accounts = settings.ozon_accounts if source == "ozon" else settings.wb_accounts

    @asset(
        name=f"{source}_ledger_slice",
        group_name="inventory",
        partitions_def=partitions,
        deps=[snapshot],
        required_resource_keys={"database"},
        kinds={settings.database_kind},
        tags={"source": source},
        description=f"{TITLES[source]}'s rows of the stock ledger for one seller account, made equal to the "
        f"newest accepted {TITLES[source]} snapshot: new rows added, changed ones written with their history, "
        "rows a complete answer no longer lists set to zero. Runs only when the snapshot passed its checks.",
    )
    def _slice(context: AssetExecutionContext, config: LedgerConfig) -> MaterializeResult:
        account = context.partition_key
        if account not in accounts:
            return MaterializeResult(
                metadata={"note": f"no {TITLES[source]} account is configured for '{account}': nothing to apply"}
            )
        engine = context.resources.database.engine
        full_resync = config.full_resync or context.run.tags.get(FULL_RESYNC_TAG) == "true"
        newest = snapshots.latest(engine, source, account)
        note = skip_reason(newest, full_resync)
        if note:
            close_superseded(engine, source, account, context.run_id, note)
            return MaterializeResult(metadata={"note": note, "full_resync": full_resync})
        result = apply_snapshot(engine, newest, context.run_id, full_resync, settings.max_stock_value)
        context.log.info(
            f"{source}/{account}: {result.staged} rows from snapshot {newest.id}: "
            f"{result.inserted} new, {result.changed} changed, {result.zeroed} set to zero"
            + (f"; every row compared with the ledger: {result.not_compared}" if result.not_compared else "")
        )
        rows, total = changes.largest(engine, source, account, context.run_id)
        health = result.health
        return MaterializeResult(
            metadata={
                **applied_figures(newest, result),
                "snapshot_id": ident(newest.id),
                "full_resync": full_resync,
                "largest_changes": table(
                    rows,
                    changes.CHANGE_COLUMNS,
                    total=total,
                    empty="_no row changed_" if not result.first_sync else "_first sync: every row is new_",
                ),
                "slice_rows": health.rows if health else 0,
                "dagster/row_count": health.rows if health else 0,
                "compared_with": MetadataValue.text(result.compared),
            }
        )

    return _slice
