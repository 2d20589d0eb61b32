"""Stock snapshots from the marketplaces (group ``marketplace_snapshots``), judged before the ledger trusts them."""

import time
from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    StaticPartitionsDefinition,
    asset,
)

from inventory_pipeline import sync_log
from inventory_pipeline.assets.metadata import ident, table
from inventory_pipeline.assets.partitions import account_check
from inventory_pipeline.defs.stock import snapshots, wb_sku
from inventory_pipeline.defs.stock.fetch import FETCHERS, ledger_view
from inventory_pipeline.defs.stock.judge import judge
from inventory_pipeline.redact import redact_urls
from inventory_pipeline.resources import client_key
from inventory_pipeline.settings import Settings

SNAPSHOT_CHECKS = {
    "enough_products": "At least MIN_PRODUCTS_THRESHOLD SKUs; blocks the ledger and the Wix push.",
    "no_collapse": "No more than MAX_SNAPSHOT_DROP of SKUs or stock rows gone since the last accepted snapshot.",
    "complete": "Every part answered in full: Ozon's paging delivered every item it announced, each one "
    "named; each Wildberries part (the card listing, WB's warehouses, each seller warehouse) kept its sizes, "
    "every size batch was answered and no stock came for a size no card lists.",
    "no_duplicate_keys": "Every (SKU, warehouse, stock type) once, and every WB size its own seller SKU "
    "(WB_SKU_RULE, WB_SKU_MAP_FILE): one row never silently wins over another.",
}


class SnapshotConfig(Config):
    accept_collapse: bool = False
    """Accept a snapshot far smaller than the last one (the catalogue really shrank)."""
    list_all_cards: bool = False
    """Wildberries: list every card again, not only those changed since the last snapshot (the
    weekly full resync always does)."""


# Set by the stock_full_resync job on every run it makes, however launched (UI, schedule, CLI,
# backfill): run config given at launch would replace a job's default config, a job tag cannot be lost.
FULL_RESYNC_TAG = "inventory/full_resync"


TITLES = {"ozon": "Ozon", "wb": "Wildberries"}


PREVIEW = ["sku", "stock_type", "warehouse_id", "current_stock", "reserved_stock", "available_stock"]


def capture(
    context: AssetExecutionContext, source: str, settings: Settings, accounts: list[str], config: SnapshotConfig
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Fetch, store and judge one account's snapshot of ``source``. An accepted snapshot materializes;
    a rejected one, or a fetch that failed, yields its failed checks and fails the step with why, so
    that it never looks like a materialization and nothing downstream of it runs."""
    account = context.partition_key
    names = list(SNAPSHOT_CHECKS)
    if account not in accounts:
        note = f"no {TITLES[source]} account is configured for '{account}': nothing fetched, nothing to judge"
        yield MaterializeResult(
            metadata={"configured": False, "note": note},
            check_results=[AssetCheckResult(check_name=n, passed=True, description=note) for n in names],
        )
        return

    engine = context.resources.database.engine
    api = getattr(context.resources, client_key(source, account))
    sync_log.sweep_abandoned(engine, sync_log.finished_runs(context.instance))
    log_id = sync_log.start(engine, source, account, context.run_id)
    writer = snapshots.SnapshotWriter(engine, source, account, context.run_id)
    started = time.monotonic()
    try:
        rule = wb_sku.load(settings.wb_sku_rule, settings.wb_sku_separator, settings.wb_sku_map_file)
        list_all = config.list_all_cards or context.run.tags.get(FULL_RESYNC_TAG) == "true"
        tally = FETCHERS[source](api, writer, account, ledger_view(engine, source, account, rule, list_all))
    except Exception as exc:  # stored as a failed snapshot and logged before the step fails
        error = redact_urls(f"{type(exc).__name__}: {exc}")[:2000]
        writer.finish("failed", 0, 0, api.calls, error)
        sync_log.finish(engine, log_id, "failed", error=error)
        for n in names:
            yield AssetCheckResult(check_name=n, passed=False, description=f"not judged: the fetch failed: {error}")
        raise Failure(
            description=f"{TITLES[source]} snapshot {writer.id} for '{account}' failed: {error}. "
            "Nothing was written; the ledger keeps its figures.",
            metadata={"snapshot_id": ident(writer.id), "api_calls": api.calls},
        ) from None
    calls = api.calls
    previous = snapshots.latest(engine, source, account, before_id=writer.id)
    verdicts = judge(source, tally, previous, settings, config.accept_collapse)
    failed = [v for v in verdicts if not v.passed]
    reason = "; ".join(v.description for v in failed) or None
    sku_count = len(tally.skus)
    writer.finish(
        "rejected" if failed else "accepted",
        sku_count,
        tally.rows,
        calls,
        reason,
        len(tally.skipped),
        dict(tally.parts),
    )
    for line in tally.skipped[:20]:
        context.log.warning(f"skipped: {line}")
    metadata = {
        "snapshot_id": ident(writer.id),
        "skus": sku_count,
        "stock_rows": tally.rows,
        "skipped_rows": len(tally.skipped),
        "pages": writer.pages,
        "api_calls": calls,
        "fetch_seconds": round(time.monotonic() - started, 2),
        "compared_with_snapshot": ident(previous.id if previous else "none (the first)"),
        **({"card_listing": tally.card_listing} if tally.card_listing else {}),
        "preview": table(tally.preview, PREVIEW, empty="_no rows_"),
    }
    if failed:
        sync_log.finish(engine, log_id, "failed", failed=len(tally.skipped), error=f"snapshot rejected: {reason}")
        yield from (v.result() for v in verdicts)
        raise Failure(
            description=f"{TITLES[source]} snapshot {writer.id} for '{account}' rejected: {reason}",
            metadata=metadata,
        )
    yield MaterializeResult(
        metadata={**metadata, "dagster/row_count": tally.rows}, check_results=[v.result() for v in verdicts]
    )


def build_snapshot_asset(source: str, partitions: StaticPartitionsDefinition, settings: Settings) -> AssetsDefinition:
    accounts = settings.ozon_accounts if source == "ozon" else settings.wb_accounts
    name = f"{source}_stock_snapshot"
    names = list(SNAPSHOT_CHECKS)

    @asset(
        name=name,
        group_name="marketplace_snapshots",
        partitions_def=partitions,
        kinds={"api"},
        output_required=False,  # a rejected snapshot is no materialization
        required_resource_keys={"database", *(client_key(source, a) for a in accounts)},
        # Blocking: a rejected snapshot stops its own ledger slice (and the ledger and push after it);
        # the other source's slice has its own snapshot, so one bad answer never holds back a good one.
        check_specs=[account_check(n, name, partitions, SNAPSHOT_CHECKS[n], blocking=True) for n in names],
        tags={"source": source},
        description=f"The complete answer of {TITLES[source]}'s stock endpoints for one seller account, "
        "stored page by page so that any run can be audited and replayed.",
    )
    def _snapshot(context: AssetExecutionContext, config: SnapshotConfig):
        yield from capture(context, source, settings, accounts, config)

    return _snapshot
