"""Raw stock snapshots from the marketplaces (group ``raw``), judged before the ledger trusts them."""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    asset,
)

from inventory_pipeline import checks, ledger, snapshots, sync_log
from inventory_pipeline.normalize import (
    Normalized,
    ozon_rows,
    wb_barcodes,
    wb_card_index,
    wb_remains_rows,
    wb_seller_rows,
    wb_warehouse_rows,
)
from inventory_pipeline.redact import redact_urls
from inventory_pipeline.resources.ozon import OzonSellerResource
from inventory_pipeline.resources.pages import json_array_batches
from inventory_pipeline.resources.wildberries import WildberriesResource
from inventory_pipeline.settings import Settings

SNAPSHOT_CHECKS = {
    "enough_products": "At least MIN_PRODUCTS_THRESHOLD SKUs; blocks the ledger and the Wix push.",
    "no_collapse": "No more than MAX_SNAPSHOT_DROP of SKUs or stock rows gone since the last accepted snapshot.",
    "complete": "Every part answered in full: Ozon's paging delivered every item it announced; each "
    "Wildberries part (WB's warehouses, each seller warehouse) kept its size and every size batch was answered.",
}


# Parts older snapshots counted in other units: "wb_warehouses" in rows, now "wb_warehouse_sizes".
RECOUNTED_PARTS = {"wb_warehouses"}


class SnapshotConfig(Config):
    accept_collapse: bool = False
    """Accept a snapshot far smaller than the last one (the catalogue really shrank)."""


@dataclass
class Tally:
    """What a snapshot held, counted page by page so that memory holds one page at a time."""

    skus: set[str] = field(default_factory=set)
    rows: int = 0
    skipped: list[str] = field(default_factory=list)
    received_items: int = 0
    expected_items: int | None = None
    preview: list[dict] = field(default_factory=list)
    parts: Counter = field(default_factory=Counter)  # rows (sizes, for WB's warehouses) per part of the answer
    problems: list[str] = field(default_factory=list)  # answers that contradict their request

    def add(self, normalized: Normalized, part: str = "stocks", units: int | None = None) -> None:
        self.parts[part] += len(normalized.rows) if units is None else units
        self.rows += len(normalized.rows)
        self.skus.update(r["sku"] for r in normalized.rows)
        self.skipped.extend(normalized.skipped)
        if len(self.preview) < 10:
            self.preview.extend(normalized.rows[: 10 - len(self.preview)])


def run_finished(context: AssetExecutionContext, run_id: str) -> bool:
    """True when ``run_id`` is over (or unknown to this instance): its open sync rows are abandoned."""
    run = context.instance.get_run_by_id(run_id)
    return run is None or run.is_finished


def resource_key(source: str, account: str) -> str:
    return f"{source}_{account}"


def fetch_ozon(api: OzonSellerResource, writer: snapshots.SnapshotWriter, account: str, held: Callable) -> Tally:
    tally = Tally()
    for page in api.stock_pages():
        writer.add(page)
        items = page.payload["items"]
        tally.received_items += len(items)
        total = page.payload.get("total_items", page.payload.get("total"))
        tally.expected_items = int(total) if isinstance(total, int) else tally.expected_items
        normalized = ozon_rows(items, account)
        tally.add(normalized)
        writer.add_rows(normalized.rows)
    return tally


def fetch_wb(api: WildberriesResource, writer: snapshots.SnapshotWriter, account: str, held: Callable) -> Tally:
    """Cards (size → article), WB's warehouses (the remains report, or the stocks report's
    aggregate), then every seller warehouse by size batches.
    Each batch's answer is checked against its request and against the sizes the ledger holds."""
    tally = Tally()
    index: dict = {}
    barcodes: dict[str, int] = {}
    for page in api.card_pages():
        writer.add(page)
        page_index, skipped = wb_card_index(page.payload["cards"])
        index.update(page_index)
        barcodes.update(wb_barcodes(page.payload["cards"]))
        tally.skipped.extend(skipped)
    warehouses = api.seller_warehouses()
    writer.add(warehouses)
    # WB's warehouses are one part whichever report reads them, judged in sizes: the aggregate has one
    # row per size, the remains report several, and switching between them is no collapse.
    for normalized in _wb_warehouse_stock(api, writer, index, barcodes, account):
        tally.add(normalized, "wb_warehouse_sizes", units=len({r["marketplace_sku"] for r in normalized.rows}))
        writer.add_rows(normalized.rows)
    stocked = held("fbs")
    for warehouse in warehouses.payload:
        warehouse_id = int(warehouse["id"])
        part = f"seller_stocks:{warehouse_id}"
        tally.parts[part] += 0  # a warehouse that answers nothing is still a part to judge
        for asked, page in api.seller_stock_pages(warehouse_id, index):
            writer.add(page)
            problem = batch_problem(warehouse_id, asked, page.payload["stocks"], stocked.get(str(warehouse_id), set()))
            if problem:
                tally.problems.append(problem)
            name = str(warehouse.get("name", ""))
            normalized = wb_seller_rows(page.payload["stocks"], warehouse_id, name, index, account)
            tally.add(normalized, part)
            writer.add_rows(normalized.rows)
    tally.received_items = len(index)
    return tally


def _wb_warehouse_stock(
    api: WildberriesResource, writer: snapshots.SnapshotWriter, index: dict, barcodes: dict, account: str
) -> Iterator[Normalized]:
    """FBW stock: per warehouse from the remains report, or the stocks report's one aggregate per size."""
    if api.fbw_by_warehouse:
        remains = api.warehouse_remains()
        with remains.file:
            writer.add(remains)
            for items in json_array_batches(remains.file, "Wildberries' warehouse-remains report"):
                yield wb_remains_rows(items, index, barcodes, account)
        return
    for page in api.warehouse_report_pages():
        writer.add(page)
        yield wb_warehouse_rows(page.payload["data"]["items"], index, account)


def batch_problem(warehouse_id: int, asked: list[int], answer: list, stocked: set[str]) -> str | None:
    """Why one seller-stock answer cannot be trusted, or None."""
    asked_set = set(asked)
    answered = {s.get("chrtId") for s in answer if isinstance(s, dict)}
    if answered - asked_set:
        return f"seller warehouse {warehouse_id} answered {len(answered - asked_set)} sizes it was not asked for"
    held = sum(1 for chrt in asked if str(chrt) in stocked)
    if not answer and held:
        return (
            f"seller warehouse {warehouse_id} answered none of {len(asked)} sizes, "
            f"{held} of which the ledger holds in stock"
        )
    return None


FETCHERS: dict[str, Callable] = {"ozon": fetch_ozon, "wb": fetch_wb}
TITLES = {"ozon": "Ozon", "wb": "Wildberries"}


def _preview(rows: list[dict]) -> MetadataValue:
    if not rows:
        return MetadataValue.md("_no rows_")
    cols = ["sku", "stock_type", "warehouse_id", "current_stock", "reserved_stock", "available_stock"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return MetadataValue.md("\n".join(lines))


def capture(
    context: AssetExecutionContext, source: str, settings: Settings, accounts: list[str], config: SnapshotConfig
) -> MaterializeResult:
    """Fetch, store and judge one account's snapshot of ``source``."""
    account = context.partition_key
    names = list(SNAPSHOT_CHECKS)
    if account not in accounts:
        note = f"no {TITLES[source]} account is configured for '{account}': nothing fetched, nothing to judge"
        return MaterializeResult(
            metadata={"configured": False, "note": note},
            check_results=[AssetCheckResult(check_name=n, passed=True, description=note) for n in names],
        )

    engine = context.resources.database.engine
    api = getattr(context.resources, resource_key(source, account))
    sync_log.sweep_abandoned(engine, source, account, lambda run_id: run_finished(context, run_id))
    log_id = sync_log.start(engine, source, account, context.run_id)
    writer = snapshots.SnapshotWriter(engine, source, account, context.run_id)
    started = time.monotonic()
    try:
        tally = FETCHERS[source](
            api, writer, account, lambda stock_type: ledger.stocked_sizes(engine, source, account, stock_type)
        )
    except Exception as exc:  # recorded, not raised: the other sources' slices must still apply
        error = redact_urls(f"{type(exc).__name__}: {exc}")[:2000]
        writer.finish("failed", 0, 0, api.calls, error)
        sync_log.finish(engine, log_id, "failed", error=error)
        context.log.error(f"{TITLES[source]} snapshot {writer.id} for '{account}' failed: {error}")
        return MaterializeResult(
            metadata={"snapshot_id": writer.id, "status": "failed", "error": error, "api_calls": api.calls},
            check_results=[
                AssetCheckResult(check_name=n, passed=False, description=f"not judged: the fetch failed: {error}")
                for n in names
            ],
        )
    calls = api.calls
    previous = snapshots.latest(engine, source, account, before_id=writer.id)
    verdicts = [
        checks.enough_products(len(tally.skus), settings.min_products_threshold),
        checks.no_collapse(
            len(tally.skus),
            tally.rows,
            previous.sku_count if previous else None,
            previous.row_count if previous else None,
            settings.max_snapshot_drop,
            config.accept_collapse,
        ),
    ]
    if source == "ozon":
        verdicts.append(checks.complete(tally.received_items, tally.expected_items))
    else:
        verdicts.append(
            checks.parts_complete(
                dict(tally.parts),
                {k: v for k, v in previous.part_rows.items() if k not in RECOUNTED_PARTS} if previous else {},
                settings.max_part_drop,
                tally.problems,
                config.accept_collapse,
            )
        )
    failed = [v for v in verdicts if not v.passed]
    reason = "; ".join(v.description for v in failed) or None
    writer.finish(
        "rejected" if failed else "accepted",
        len(tally.skus),
        tally.rows,
        calls,
        reason,
        len(tally.skipped),
        dict(tally.parts),
    )
    if failed:
        sync_log.finish(engine, log_id, "failed", failed=len(tally.skipped), error=f"snapshot rejected: {reason}")
        context.log.error(f"{TITLES[source]} snapshot {writer.id} for '{account}' rejected: {reason}")
    for line in tally.skipped[:20]:
        context.log.warning(f"skipped: {line}")
    return MaterializeResult(
        metadata={
            "snapshot_id": writer.id,
            "skus": len(tally.skus),
            "stock_rows": tally.rows,
            "skipped_rows": len(tally.skipped),
            "pages": writer.pages,
            "api_calls": calls,
            "fetch_seconds": round(time.monotonic() - started, 2),
            "status": "rejected" if failed else "accepted",
            "previous_snapshot_id": previous.id if previous else -1,
            "preview": _preview(tally.preview),
            "dagster/row_count": tally.rows,
        },
        check_results=[v.result() for v in verdicts],
    )


def build_snapshot_asset(source: str, partitions: StaticPartitionsDefinition, settings: Settings) -> AssetsDefinition:
    accounts = settings.ozon_accounts if source == "ozon" else settings.wb_accounts
    name = f"{source}_stock_snapshot"
    names = list(SNAPSHOT_CHECKS)

    @asset(
        name=name,
        group_name="raw",
        partitions_def=partitions,
        pool=f"{source}_api",
        kinds={"api"},
        required_resource_keys={"database", *(resource_key(source, a) for a in accounts)},
        # Not blocking: inventory_data applies only accepted snapshots, source by source, so that one
        # source's bad answer never holds back another's good one.
        check_specs=[AssetCheckSpec(n, asset=name, description=SNAPSHOT_CHECKS[n]) for n in names],
        description=f"The complete answer of {TITLES[source]}'s stock endpoints for one seller account, "
        "stored page by page so that any run can be audited and replayed.",
    )
    def _snapshot(context: AssetExecutionContext, config: SnapshotConfig) -> MaterializeResult:
        return capture(context, source, settings, accounts, config)

    return _snapshot
