"""The normalized stock ledger ``inventory_data`` (group ``inventory``)."""

from collections.abc import Iterable

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
from sqlalchemy import Engine

from inventory_pipeline import checks, ledger, snapshots, sync_log
from inventory_pipeline.clock import utcnow
from inventory_pipeline.normalize import rows_from_pages
from inventory_pipeline.settings import Settings

LEDGER_CHECKS = {
    "no_negative_stock": ("No row with negative stock or reserve.", AssetCheckSeverity.ERROR),
    "stock_within_limit": (
        "No row above MAX_STOCK_VALUE units (the cron stock-sync service's anomaly query).",
        AssetCheckSeverity.WARN,
    ),
    "no_duplicate_keys": (
        "No (source, account, SKU, warehouse, type) reported twice in one snapshot.",
        AssetCheckSeverity.ERROR,
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


def _previous(engine: Engine, source: str, account: str) -> ledger.Previous | None:
    """The snapshot the slice was last made equal to, when its stored rows are still there."""
    snapshot_id = ledger.last_applied(engine, source, account)
    if snapshot_id is None or not snapshots.has_stored_rows(engine, snapshot_id):
        return None
    return snapshot_id, lambda: snapshots.stored_rows(engine, snapshot_id)


def _rows(engine: Engine, source: str, account: str, snapshot_id: int) -> Iterable[ledger.Chunk]:
    """The snapshot's rows as normalized when fetched, or, for an older snapshot, from its pages."""
    if snapshots.has_stored_rows(engine, snapshot_id):
        return snapshots.stored_rows(engine, snapshot_id)
    return rows_from_pages(source, account, lambda parts: snapshots.pages(engine, snapshot_id, parts))


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
        metadata: dict = {"full_resync": full_resync}
        applied: list[str] = []
        duplicates = 0
        for source, accounts in sources.items():
            if account not in accounts:
                continue
            snapshot = snapshots.latest(engine, source, account)
            if snapshot is None:
                metadata[f"{source}_note"] = "no accepted snapshot yet"
                continue
            if snapshot.applied_at and not full_resync:
                metadata[f"{source}_note"] = f"snapshot {snapshot.id} already applied; ledger unchanged"
                continue
            log_id = sync_log.open_log(engine, source, account, context.run_id) or sync_log.start(
                engine, source, account, context.run_id, "full_resync" if full_resync else "stock"
            )
            try:
                result = ledger.apply(
                    engine,
                    source,
                    account,
                    snapshot.fetched_at,
                    _rows(engine, source, account, snapshot.id),
                    context.run_id,
                    full_resync=full_resync,
                    snapshot_id=snapshot.id,
                    previous=_previous(engine, source, account),
                )
            except Exception as exc:
                sync_log.finish(engine, log_id, "failed", error=f"ledger apply failed: {exc}")
                raise
            snapshots.mark_applied(engine, snapshot.id)
            applied.append(source)
            duplicates += result.duplicate_keys
            # Unreadable rows were skipped when the snapshot was read: the sync is then partial.
            status = "partial" if snapshot.skipped_count else "success"
            sync_log.finish(engine, log_id, status, processed=result.staged, failed=snapshot.skipped_count)
            metadata.update(
                {
                    f"{source}_snapshot_id": snapshot.id,
                    f"{source}_rows": result.staged,
                    f"{source}_inserted": result.inserted,
                    f"{source}_changed": result.changed,
                    f"{source}_zeroed": result.zeroed,
                    f"{source}_skipped_rows": snapshot.skipped_count,
                    f"{source}_corrupt_removed": result.corrupt_removed,
                    f"{source}_compared_with": result.compared,
                }
            )
            context.log.info(
                f"{source}/{account}: {result.staged} rows from snapshot {snapshot.id}: "
                f"{result.inserted} new, {result.changed} changed, {result.zeroed} set to zero"
            )
        held_back = {
            source: f"{status}: {reason}"
            for source, (status, reason) in snapshots.statuses_of_run(engine, context.run_id).items()
            if status in ("rejected", "failed")
        }
        if held_back:
            raise Failure(
                description="; ".join(f"{s} snapshot {why}" for s, why in held_back.items())
                + f" — its ledger slice is unchanged{'; the other sources were applied' if applied else ''}.",
                metadata={**metadata, **{f"{s}_held_back": why[:500] for s, why in held_back.items()}},
            )
        health = [
            ledger.slice_health(engine, s, account, settings.max_stock_value)
            for s, accounts in sources.items()
            if account in accounts
        ]
        synced = ledger.freshness(engine)
        verdicts = [
            checks.no_negative_stock(sum(h.negative for h in health)),
            checks.stock_within_limit(sum(h.above_max for h in health), settings.max_stock_value),
            checks.no_duplicate_keys(duplicates),
            checks.fresh(
                {s: synced.get((s, account)) for s, accounts in sources.items() if account in accounts},
                utcnow(),
                settings.max_sync_age_hours,
            ),
        ]
        metadata.update(
            {
                "ledger_rows": sum(h.rows for h in health),
                "total_present": sum(h.total_present for h in health),
                "reserved_over_present_rows": sum(h.reserved_over_present for h in health),
                "dagster/row_count": sum(h.rows for h in health),
            }
        )
        return MaterializeResult(
            metadata=metadata,
            check_results=[v.result(LEDGER_CHECKS[v.check][1]) for v in verdicts],
        )

    return inventory_data
