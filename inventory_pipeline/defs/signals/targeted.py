"""Reading only what the signals name: Ozon products by ``offer_id``/``product_id``, Wildberries
sizes by ``chrtId`` on the warehouse an order came from. The answer is normalized as a full sync's
is, and judged as strictly: an unreadable figure keeps its last value, a SKU goes to zero only
where the answer for it was complete, and an answer naming what was not asked refuses the read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from inventory_pipeline.defs.signals.queue import Claimed
from inventory_pipeline.defs.stock import ledger
from inventory_pipeline.defs.stock.normalize import ozon_rows, wb_seller_rows
from inventory_pipeline.defs.stock.wb_cards import WbSize
from inventory_pipeline.resources.ozon import MAX_PAGE, OzonSellerResource
from inventory_pipeline.resources.wildberries import STOCKS_BATCH, WildberriesResource


@dataclass
class TargetedRead:
    rows: list[dict] = field(default_factory=list)
    zero_within: dict[str, Sequence[str]] | None = None  # where a row the answer did not report is gone
    unresolved: list[str] = field(default_factory=list)  # what could not be read, in words, for the run's page
    retry: set[int] = field(default_factory=set)  # signals whose SKU the answer left out or could not read
    unknown: set[int] = field(default_factory=set)  # signals naming nothing the ledger knows: the full sync's
    skipped: list[str] = field(default_factory=list)  # unreadable figures, kept as they were
    problems: list[str] = field(default_factory=list)  # what makes the answer untrustworthy: nothing applied
    asked: int = 0

    @property
    def skus(self) -> set[str]:
        """The seller SKUs this read may have changed."""
        return {r["sku"] for r in self.rows} | set((self.zero_within or {}).get("sku", ()))


def read_ozon(api: OzonSellerResource, engine: Engine, account: str, signals: list[Claimed]) -> TargetedRead:
    read = TargetedRead()
    by_sku = [s for s in signals if s.ref_type == "sku"]
    known = ledger.rows_where(engine, "ozon", account, "marketplace_sku", {s.ref for s in by_sku}) if by_sku else []
    offer_of = {r["marketplace_sku"]: r["sku"] for r in known}
    wanted: dict[tuple[str, str], list[int]] = {}  # ("offer"|"product", value) -> signals
    for s in signals:
        if s.ref_type == "offer_id":
            wanted.setdefault(("offer", s.ref), []).append(s.id)
        elif s.ref_type == "product_id" and s.ref.isascii() and s.ref.isdigit():
            wanted.setdefault(("product", str(int(s.ref))), []).append(s.id)
        elif s.ref_type == "sku" and s.ref in offer_of:
            wanted.setdefault(("offer", offer_of[s.ref]), []).append(s.id)
        else:
            read.unknown.add(s.id)
            read.unresolved.append(f"Ozon {s.ref_type} {s.ref!r} (unknown to the ledger)")
    read.asked = len(wanted)
    items: dict[str, dict] = {}  # by offer: a product named by offer and by id is one product
    for kind in ("offer", "product"):  # one filter at a time: how Ozon combines two is not promised
        values = sorted(v for k, v in wanted if k == kind)
        for start in range(0, len(values), MAX_PAGE):
            batch = values[start : start + MAX_PAGE]
            named = {"offer_ids": batch} if kind == "offer" else {"product_ids": batch}
            for page in api.stock_pages(**named):
                for item in page.payload["items"]:
                    if isinstance(item, dict) and isinstance(item.get("offer_id"), str):
                        items[item["offer_id"]] = item
                    else:
                        read.problems.append(f"Ozon answered an item without an offer_id: {item!r:.60}")
    answered = {("offer", o) for o in items} | {("product", str(i.get("product_id"))) for i in items.values()}
    strays = [
        o
        for o, i in items.items()
        if ("offer", o) not in wanted and ("product", str(i.get("product_id"))) not in wanted
    ]
    if strays:
        read.problems.append(f"Ozon answered {len(strays)} products it was not asked for ({', '.join(strays[:3])})")
    for ref, ids in wanted.items():
        if ref not in answered:
            read.retry.update(ids)
            read.unresolved.append(f"Ozon {ref[0]} {ref[1]!r} (not in the answer)")
    normalized = ozon_rows(list(items.values()), account)
    read.rows, read.skipped = normalized.rows, normalized.skipped
    read.problems += normalized.problems
    kept = {k.sku for k in normalized.keep}
    by_product = {str(i.get("product_id")): i for i in items.values()}
    for (kind, value), ids in wanted.items():  # an unreadable figure: read it again next time
        item = items.get(value) if kind == "offer" else by_product.get(value)
        if item is not None and item["offer_id"] in kept:
            read.retry.update(ids)
    # Every product answered with its list of stocks (an empty list too) is complete: what it does not
    # list is gone. Those with an unreadable figure keep every row.
    complete = {o for o, i in items.items() if isinstance(i.get("stocks"), list)} - kept
    read.zero_within = {"sku": sorted(complete)}
    return read


class LedgerSizes:
    """WB sizes as the ledger knows them (chrtID → seller SKU and card), for sizes a signal names. A
    size the ledger holds under two SKUs (its article or techSize edited since) is not resolved: which
    one is the size now is the card listing's to say, at the next sync."""

    def __init__(self, rows: list[dict]) -> None:
        found: dict[int, set[WbSize]] = {}
        for r in rows:
            found.setdefault(int(r["marketplace_sku"]), set()).add(WbSize(r["sku"], int(r["product_id"] or 0)))
        self._by_chrt = {chrt: next(iter(sizes)) for chrt, sizes in found.items() if len(sizes) == 1}
        self.ambiguous = {chrt for chrt, sizes in found.items() if len(sizes) > 1}

    def __contains__(self, chrt: int) -> bool:
        return chrt in self._by_chrt

    def sizes(self, chrts: Sequence[object]) -> list[WbSize | None]:
        return [self._by_chrt.get(c) if isinstance(c, int) else None for c in chrts]


def read_wb(api: WildberriesResource, engine: Engine, account: str, signals: list[Claimed]) -> TargetedRead:
    read = TargetedRead(zero_within=None)  # WB answers every size it is asked for, 0 included
    asked: dict[str, dict[int, list[int]]] = {}  # warehouse -> size -> signals
    for s in signals:
        if (
            s.ref_type == "chrt_id"
            and s.ref.isascii()
            and s.ref.isdigit()
            and s.warehouse_id.isascii()
            and s.warehouse_id.isdigit()
        ):
            asked.setdefault(s.warehouse_id, {}).setdefault(int(s.ref), []).append(s.id)
        else:
            read.unknown.add(s.id)
            read.unresolved.append(f"WB signal {s.kind} {s.ref!r} at warehouse {s.warehouse_id!r}")
    chrts = {str(c) for sizes in asked.values() for c in sizes}
    known = ledger.rows_where(engine, "wb", account, "marketplace_sku", chrts) if chrts else []
    sizes = LedgerSizes([r for r in known if r["marketplace_sku"].isascii() and r["marketplace_sku"].isdigit()])
    names = {r["warehouse_id"]: r["warehouse_name"] for r in known if r["stock_type"] == "fbs"}
    for warehouse, by_size in sorted(asked.items()):
        for chrt, ids in by_size.items():
            if chrt not in sizes:
                read.unknown.update(ids)
                why = "held under two SKUs" if chrt in sizes.ambiguous else "unknown to the ledger"
                read.unresolved.append(f"WB size {chrt} ({why})")
        wanted = sorted(c for c in by_size if c in sizes)
        if not wanted:
            continue
        read.asked += len(wanted)
        if warehouse not in names:
            listed = api.seller_warehouses().payload
            names |= {str(w.get("id")): str(w.get("name", "")) for w in listed if isinstance(w, dict)}
        for start in range(0, len(wanted), STOCKS_BATCH):
            for chunk, page in api.seller_stock_pages(int(warehouse), wanted[start : start + STOCKS_BATCH]):
                stocks = page.payload["stocks"]
                answered = {s.get("chrtId") for s in stocks if isinstance(s, dict)}
                if answered - set(chunk):
                    read.problems.append(f"seller warehouse {warehouse} answered sizes it was not asked for")
                for chrt in chunk:
                    if chrt not in answered:
                        read.retry.update(by_size[chrt])
                        read.unresolved.append(f"WB size {chrt} at warehouse {warehouse} (not in the answer)")
                normalized = wb_seller_rows(stocks, int(warehouse), names.get(warehouse, ""), sizes, account)
                read.rows += normalized.rows
                read.skipped += normalized.skipped
                read.problems += normalized.problems
                unreadable = {
                    s.get("chrtId") for s in stocks if isinstance(s, dict) and not isinstance(s.get("amount"), int)
                }
                for chrt in unreadable & set(chunk):
                    read.retry.update(by_size[chrt])
    return read


READERS = {"ozon": read_ozon, "wb": read_wb}
