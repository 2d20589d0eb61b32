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
    unresolved: list[str] = field(default_factory=list)  # named nothing the ledger knows: the full sync's
    skipped: list[str] = field(default_factory=list)  # unreadable figures, kept as they were
    problems: list[str] = field(default_factory=list)  # what makes the answer untrustworthy: nothing applied
    asked: int = 0

    @property
    def skus(self) -> set[str]:
        """The seller SKUs this read may have changed."""
        return {r["sku"] for r in self.rows} | set((self.zero_within or {}).get("sku", ()))


def read_ozon(api: OzonSellerResource, engine: Engine, account: str, signals: list[Claimed]) -> TargetedRead:
    read = TargetedRead()
    offers = {s.ref for s in signals if s.ref_type == "offer_id"}
    products = {s.ref for s in signals if s.ref_type == "product_id"}
    ozon_skus = {s.ref for s in signals if s.ref_type == "sku"}
    if ozon_skus:
        known = ledger.rows_where(engine, "ozon", account, "marketplace_sku", ozon_skus)
        offers |= {r["sku"] for r in known}
        read.unresolved += [f"Ozon SKU {s}" for s in sorted(ozon_skus - {r["marketplace_sku"] for r in known})]
    named = [("offer", o) for o in sorted(offers)] + [("product", p) for p in sorted(products) if p.isdigit()]
    read.unresolved += [f"Ozon product_id {p!r}" for p in sorted(products) if not p.isdigit()]
    read.asked = len(named)
    items: list = []
    for start in range(0, len(named), MAX_PAGE):
        batch = named[start : start + MAX_PAGE]
        for page in api.stock_pages(
            offer_ids=[v for k, v in batch if k == "offer"], product_ids=[v for k, v in batch if k == "product"]
        ):
            items.extend(page.payload["items"])
    answered_products = {str(i.get("product_id")) for i in items if isinstance(i, dict)}
    answered_offers = {i.get("offer_id") for i in items if isinstance(i, dict)}
    strays = [
        i
        for i in items
        if isinstance(i, dict) and i.get("offer_id") not in offers and str(i.get("product_id")) not in products
    ]
    if strays:
        read.problems.append(f"Ozon answered {len(strays)} products it was not asked for")
    read.unresolved += [f"Ozon offer {o!r} (not in the answer)" for o in sorted(offers - answered_offers)]
    read.unresolved += [f"Ozon product_id {p}" for p in sorted(products - answered_products) if p.isdigit()]
    normalized = ozon_rows(items, account)
    read.rows, read.skipped = normalized.rows, normalized.skipped
    read.problems += normalized.problems
    kept = {k.sku for k in normalized.keep}
    read.zero_within = {"sku": sorted({r["sku"] for r in normalized.rows} - kept)}
    return read


class LedgerSizes:
    """WB sizes as the ledger knows them (chrtID → seller SKU and card), for sizes a signal names."""

    def __init__(self, rows: list[dict]) -> None:
        self._by_chrt = {int(r["marketplace_sku"]): WbSize(r["sku"], int(r["product_id"] or 0)) for r in rows}

    def __contains__(self, chrt: int) -> bool:
        return chrt in self._by_chrt

    def sizes(self, chrts: Sequence[object]) -> list[WbSize | None]:
        return [self._by_chrt.get(c) if isinstance(c, int) else None for c in chrts]


def read_wb(api: WildberriesResource, engine: Engine, account: str, signals: list[Claimed]) -> TargetedRead:
    read = TargetedRead(zero_within=None)  # WB answers every size it is asked for, 0 included
    asked: dict[str, set[int]] = {}
    for s in signals:
        if s.ref_type == "chrt_id" and s.ref.isdigit() and s.warehouse_id.isdigit():
            asked.setdefault(s.warehouse_id, set()).add(int(s.ref))
        else:
            read.unresolved.append(f"WB signal {s.kind} {s.ref!r} at warehouse {s.warehouse_id!r}")
    known = ledger.rows_where(engine, "wb", account, "marketplace_sku", {str(c) for cs in asked.values() for c in cs})
    sizes = LedgerSizes([r for r in known if r["marketplace_sku"].isdigit()])
    names = {(r["warehouse_id"]): r["warehouse_name"] for r in known if r["stock_type"] == "fbs"}
    for warehouse, chrts in sorted(asked.items()):
        wanted = sorted(c for c in chrts if c in sizes)
        read.unresolved += [f"WB size {c} (unknown to the ledger)" for c in sorted(chrts) if c not in sizes]
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
                read.unresolved += [
                    f"WB size {c} at warehouse {warehouse} (not in the answer)" for c in chunk if c not in answered
                ]
                normalized = wb_seller_rows(stocks, int(warehouse), names.get(warehouse, ""), sizes, account)
                read.rows += normalized.rows
                read.skipped += normalized.skipped
                read.problems += normalized.problems
    return read


READERS = {"ozon": read_ozon, "wb": read_wb}
