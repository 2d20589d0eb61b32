"""Reading a marketplace's stock: every page fetched, stored and normalized as it arrives, and counted
so the snapshot can be judged."""

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import orjson
from sqlalchemy import Engine

from inventory_pipeline.defs.stock import card_index, row_diff, snapshots
from inventory_pipeline.defs.stock import ledger as ledger_store
from inventory_pipeline.defs.stock.normalize import (
    Keep,
    Normalized,
    ozon_rows,
    wb_remains_rows,
    wb_seller_rows,
    wb_warehouse_rows,
)
from inventory_pipeline.defs.stock.wb_cards import WbCards
from inventory_pipeline.defs.stock.wb_sku import WbSkuRule
from inventory_pipeline.resources.ozon import OzonSellerResource
from inventory_pipeline.resources.pages import RawPage, json_array_batches, read_ahead
from inventory_pipeline.resources.wildberries import WildberriesResource

NONE_STOCKED = np.array([], dtype=np.int64)


class DistinctSkus:
    """How many different SKUs a snapshot holds, kept as 64-bit hashes in an array (8 bytes a SKU)
    rather than a set of texts (about 100): the count is what is judged, not the names. Two SKUs
    share a hash with a chance of about n²/2⁶⁵ within one process; the count would then be one low."""

    COMPACT_AT = 1 << 18

    def __init__(self, skus: Iterable[str] = ()) -> None:
        self._seen = np.empty(0, dtype=np.int64)
        self._new = array("q")
        self.update(skus)

    def update(self, skus: Iterable[str]) -> None:
        self._new.extend(map(hash, skus))
        if len(self._new) >= self.COMPACT_AT:
            self._compact()

    def _compact(self) -> None:
        if self._new:
            self._seen = np.union1d(self._seen, np.array(self._new, dtype=np.int64))
            self._new = array("q")

    def __len__(self) -> int:
        self._compact()
        return len(self._seen)


class DistinctKeys:
    """The ledger keys a snapshot holds, as the 64-bit hashes its stored rows carry (8 bytes a row):
    enough to tell how many keys it holds twice."""

    def __init__(self) -> None:
        self._hashes = array("Q")

    def update(self, hashes: np.ndarray) -> None:
        self._hashes.frombytes(hashes.astype(np.uint64).tobytes())

    def repeated(self) -> int:
        hashes = np.frombuffer(self._hashes, dtype=np.uint64)
        return len(hashes) - len(np.unique(hashes))


@dataclass(frozen=True)
class LedgerView:
    """What a fetch may read of the ledger slice it is about to replace: the sizes it holds in
    stock (to judge an answer that suddenly reports none of them) and the rows it holds (to keep
    those an answer could not read)."""

    stocked: Callable[[str], dict[str, np.ndarray]]
    rows: Callable[[list[Keep]], list[dict]]
    wb_sku_rule: WbSkuRule = field(default_factory=WbSkuRule)
    # The card pages of the last accepted WB snapshot, to list only what changed since; None: list all.
    known_cards: Callable[[], Iterator[dict]] | None = None


def ledger_view(
    engine: Engine, source: str, account: str, wb_sku_rule: WbSkuRule, list_all_cards: bool = False
) -> LedgerView:
    known = None
    previous = None if list_all_cards or source != "wb" else snapshots.latest(engine, source, account)
    rejected = snapshots.latest(engine, source, account, "rejected") if previous else None
    # A rejection since (a card missing from the listing, a lost page) is healed by listing all again.
    if previous and previous.part_rows.get("card_sizes") and not (rejected and rejected.id > previous.id):

        def known() -> Iterator[dict]:
            return (payload for _, payload in snapshots.pages(engine, previous.id, ("cards",)))

    return LedgerView(
        lambda stock_type: ledger_store.stocked_sizes(engine, source, account, stock_type),
        lambda keeps: ledger_store.kept_rows(engine, source, account, keeps),
        wb_sku_rule,
        known,
    )


@dataclass
class Tally:
    """What a snapshot held, counted page by page so that memory holds one page at a time."""

    skus: DistinctSkus = field(default_factory=DistinctSkus)
    keys: DistinctKeys = field(default_factory=DistinctKeys)
    rows: int = 0
    skipped: list[str] = field(default_factory=list)
    kept_rows: int = 0  # ledger rows carried into the snapshot because their answer was unreadable
    received_items: int = 0
    expected_items: int | None = None
    preview: list[dict] = field(default_factory=list)
    parts: Counter = field(default_factory=Counter)  # rows (sizes, for WB's warehouses) per part of the answer
    problems: list[str] = field(default_factory=list)  # answers that are incomplete or contradict their request
    shared_skus: list[str] = field(default_factory=list)  # SKUs the WB rule gave to more than one size
    card_listing: str = ""  # how the WB cards were listed: all, or only those changed since the last sync

    def record(
        self,
        normalized: Normalized,
        writer: snapshots.SnapshotWriter,
        ledger: LedgerView,
        part: str = "stocks",
        units: int | None = None,
    ) -> None:
        """One page's rows into the snapshot and the counts, with the ledger's rows of whatever the
        page could not read carried over unchanged (what could not be read keeps its last value)."""
        rows = normalized.rows
        if normalized.keep:
            read = {(r["sku"], r["warehouse_id"], r["stock_type"]) for r in rows}
            kept = [
                r for r in ledger.rows(normalized.keep) if (r["sku"], r["warehouse_id"], r["stock_type"]) not in read
            ]
            rows = rows + kept
            self.kept_rows += len(kept)
        self.parts[part] += len(rows) if units is None else units
        self.rows += len(rows)
        self.skus.update(r["sku"] for r in rows)
        self.keys.update(row_diff.key_hashes(rows))
        self.skipped.extend(normalized.skipped)
        self.problems.extend(normalized.problems)
        if len(self.preview) < 10:
            self.preview.extend(rows[: 10 - len(self.preview)])
        writer.add_rows(rows)


def fetch_ozon(api: OzonSellerResource, writer: snapshots.SnapshotWriter, account: str, ledger: LedgerView) -> Tally:
    tally = Tally()
    for page in read_ahead(api.stock_pages()):
        writer.add(page)
        items = page.payload["items"]
        tally.received_items += len(items)
        total = page.payload.get("total_items", page.payload.get("total"))
        tally.expected_items = int(total) if isinstance(total, int) else tally.expected_items
        tally.record(ozon_rows(items, account), writer, ledger)
    return tally


def fetch_wb(api: WildberriesResource, writer: snapshots.SnapshotWriter, account: str, ledger: LedgerView) -> Tally:
    """Cards (size → seller SKU), WB's warehouses (the remains report, or the stocks report's
    aggregate), then every seller warehouse by size batches.
    Each batch's answer is checked against its request and against the sizes the ledger holds."""
    tally = Tally()
    cards = _list_cards(api, writer, ledger, tally)
    # The card listing is a part like any other: a listing that lost sizes is no catalogue change.
    tally.parts["card_sizes"] = len(cards)
    shared, tally.shared_skus = cards.shared_skus()
    if shared > len(tally.shared_skus):
        tally.shared_skus.append(f"and {shared - len(tally.shared_skus)} more")
    warehouses = api.seller_warehouses()
    writer.add(warehouses)
    # WB's warehouses are one part whichever report reads them, judged in sizes: the aggregate has one
    # row per size, the remains report several, and switching between them is no collapse.
    for normalized in _wb_warehouse_stock(api, writer, cards, account):
        tally.record(
            normalized, writer, ledger, "wb_warehouse_sizes", len({r["marketplace_sku"] for r in normalized.rows})
        )
    stocked = ledger.stocked("fbs")
    for warehouse in warehouses.payload:
        warehouse_id = int(warehouse["id"])
        part = f"seller_stocks:{warehouse_id}"
        tally.parts[part] += 0  # a warehouse that answers nothing is still a part to judge
        name = str(warehouse.get("name", ""))
        for asked, page in read_ahead(api.seller_stock_pages(warehouse_id, cards.chrt_ids())):
            writer.add(page)
            problem = batch_problem(
                warehouse_id, asked, page.payload["stocks"], stocked.get(str(warehouse_id), NONE_STOCKED)
            )
            if problem:
                tally.problems.append(problem)
            tally.record(
                wb_seller_rows(page.payload["stocks"], warehouse_id, name, cards, account), writer, ledger, part
            )
    tally.received_items = len(cards)
    return tally


def _list_cards(
    api: WildberriesResource, writer: snapshots.SnapshotWriter, ledger: LedgerView, tally: Tally
) -> WbCards:
    """Every card, or (``card_index``) those changed since the last accepted snapshot plus the rest
    of that snapshot's cards, stored in this snapshot as one complete listing."""
    cards = WbCards(ledger.wb_sku_rule)
    after = None
    if ledger.known_cards is not None:
        for page in ledger.known_cards():
            after = card_index.newest(page.get("cards") or [], after)
    listed: set[int] = set()
    skus: set[str] = set()
    pages = 0
    for page in read_ahead(api.card_pages(after)):
        writer.add(page)
        pages += 1
        listed |= card_index.listed_ids(page.payload["cards"])
        if after is not None:
            skus |= card_index.size_skus(page.payload["cards"], ledger.wb_sku_rule)
        tally.skipped.extend(cards.add(page.payload["cards"]))
    if after is None:
        tally.card_listing = f"all cards listed ({pages} pages)"
        return cards
    carried = 0
    for page in ledger.known_cards():
        kept = card_index.carried_over(page, listed, skus, ledger.wb_sku_rule)
        if not kept:
            continue
        carried += len(kept)
        body = {"cards": kept, "carried_over": True}  # no cursor of its own: WB never served this page
        writer.add(RawPage("cards", orjson.dumps(body), body))
        tally.skipped.extend(cards.add(kept))
    tally.card_listing = (
        f"{len(listed)} cards changed since {after.updated_at} listed ({pages} pages), "
        f"{carried} carried over from the last snapshot"
    )
    return cards


def _wb_warehouse_stock(
    api: WildberriesResource, writer: snapshots.SnapshotWriter, cards: WbCards, account: str
) -> Iterator[Normalized]:
    """FBW stock: per warehouse from the remains report, or the stocks report's one aggregate per size."""
    if api.fbw_by_warehouse:
        remains = api.warehouse_remains()
        with remains.file:
            for items in json_array_batches(remains.file, "Wildberries' warehouse-remains report"):
                # Stored as it is read, 1,000 sizes to a page: the whole report (hundreds of MB at a
                # million sizes) is never held, compressed or sent to the database in one piece.
                writer.add(RawPage(remains.part, orjson.dumps(items), items))
                yield wb_remains_rows(items, cards, account)
        return
    for page in read_ahead(api.warehouse_report_pages()):
        writer.add(page)
        yield wb_warehouse_rows(page.payload["data"]["items"], cards, account)


def batch_problem(warehouse_id: int, asked: list[int], answer: list, stocked: np.ndarray) -> str | None:
    """Why one seller-stock answer cannot be trusted, or None. ``stocked``: the sorted size ids the
    ledger holds in stock there."""
    asked_set = set(asked)
    answered = {s.get("chrtId") for s in answer if isinstance(s, dict)}
    if answered - asked_set:
        return f"seller warehouse {warehouse_id} answered {len(answered - asked_set)} sizes it was not asked for"
    held = int(np.isin(np.array(asked, dtype=np.int64), stocked).sum()) if len(stocked) else 0
    if not answer and held:
        return (
            f"seller warehouse {warehouse_id} answered none of {len(asked)} sizes, "
            f"{held} of which the ledger holds in stock"
        )
    return None


FETCHERS: dict[str, Callable] = {"ozon": fetch_ozon, "wb": fetch_wb}
