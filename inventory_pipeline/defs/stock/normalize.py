"""Raw marketplace answers → ledger rows. Pure functions: no I/O, tested on recorded payloads.

A ledger row is one (source, account, seller SKU, warehouse, stock type) with present
(``current_stock``), reserved and available = present − reserved. A row the API sent in a
shape we cannot read is skipped and reported, never guessed.

How each source maps:

* Ozon ``/v4/product/info/stocks``: one row per product and stock type (``fbo``, ``fbs``, ``rfbs``,
  ``fbp``). ``warehouse_id`` is the warehouse when the row names exactly one, else ``""``: Ozon
  sums a type over its warehouses. Ozon's total per SKU is fbo + fbs + rfbs (as the cron stock-sync service did).
* Wildberries: every size of a card is its own row, its SKU made by ``wb_sku.WbSkuRule``.
* Wildberries, WB warehouses (``fbw``): the warehouse-remains report gives, per size, each
  warehouse's quantity (a row per warehouse, keyed by its name, as the report has no warehouse ids)
  and the units sold and on their way to buyers (its summary line "В пути до получателей": a row of its
  own, warehouse ``in_way_to_client``, present = reserved = those units, available 0). The stocks
  report (``WB_FBW_BY_WAREHOUSE=false``) gives one aggregate per size (warehouse ``-999999``, "Склад
  WB"): present = quantity + inWayToClient, reserved = inWayToClient, available = quantity. Both make
  the same sums per size.
* Wildberries, seller warehouses (``fbs``): ``amount`` per size; WB keeps no reserve there.

What cannot be read never looks like a sell-out: a row whose figures are unreadable is skipped,
counted, and its key listed in ``keep`` (the ledger keeps its last value); an answer that names stock
no card or request accounts for is listed in ``problems`` (the snapshot is incomplete and rejected).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from inventory_pipeline.defs.stock.wb_cards import WbCards, WbSize

OZON_TYPES = {"fbo", "fbs", "rfbs", "fbp"}
# The remains report's summary lines among its warehouses, and the ledger row for goods on their way.
REMAINS_IN_WAY = "В пути до получателей"
REMAINS_SUMMARIES = {
    REMAINS_IN_WAY: "to_client",
    "В пути возвраты на склад WB": "from_client",
    "Всего находится на складах": "on_shelves",
}
IN_WAY_TO_CLIENT = "in_way_to_client"
# What the ledger's columns hold exactly (db/tables.py): a value beyond them is refused, never cut.
TEXT_LIMITS = {"sku": 128, "warehouse_id": 32, "product_id": 32, "marketplace_sku": 32}
STOCK_LIMIT = 2**31 - 1  # INT on MySQL


class Keep(NamedTuple):
    """Ledger rows an answer could not read, to keep as they are: a SKU's rows of one stock type
    (every type when None) in one warehouse (every warehouse when None)."""

    sku: str
    stock_type: str | None = None
    warehouse_id: str | None = None


@dataclass
class Normalized:
    rows: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unreadable rows, counted: the sync is partial
    keep: list[Keep] = field(default_factory=list)  # the keys of those rows, when they can be named
    problems: list[str] = field(default_factory=list)  # what makes the answer incomplete

    def extend(self, other: Normalized) -> None:
        self.rows.extend(other.rows)
        self.skipped.extend(other.skipped)
        self.keep.extend(other.keep)
        self.problems.extend(other.problems)


def _count(value: object) -> int | None:
    """A stock figure: a whole number (negative ones are kept for the anomaly checks)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def unstorable(row: dict) -> str | None:
    """Why the ledger cannot hold ``row`` exactly, or None. Checked before staging because MySQL's
    ``LOAD DATA`` would silently cut a long SKU (merging two products) or clamp a huge count."""
    for name, limit in TEXT_LIMITS.items():
        if len(row[name]) > limit:
            return f"{name} is {len(row[name])} characters, the ledger holds {limit}"
        # A stored row is one line (row_diff compares snapshots line by line).
        if "\n" in row[name] or "\r" in row[name]:
            return f"{name} {row[name]!r} holds a line break"
    for name in ("current_stock", "reserved_stock", "available_stock"):
        if not -STOCK_LIMIT <= row[name] <= STOCK_LIMIT:
            return f"{name} {row[name]} is beyond the ledger's range (±{STOCK_LIMIT})"
    return None


def _add(out: Normalized, row: dict, label: str) -> None:
    problem = unstorable(row)
    if problem is None:
        out.rows.append(row)
        return
    out.skipped.append(f"{label}: {problem}")
    if all(len(row[k]) <= TEXT_LIMITS[k] for k in ("sku", "warehouse_id")):
        out.keep.append(Keep(row["sku"], row["stock_type"], row["warehouse_id"]))  # a figure out of range


def row(
    source: str,
    account: str,
    sku: str,
    warehouse_id: str,
    stock_type: str,
    *,
    product_id: str,
    marketplace_sku: str,
    warehouse_name: str,
    present: int,
    reserved: int,
    available: int | None = None,
) -> dict:
    return {
        "source": source,
        "account": account,
        "sku": sku,
        "warehouse_id": warehouse_id,
        "stock_type": stock_type,
        "product_id": product_id,
        "marketplace_sku": marketplace_sku,
        "warehouse_name": " ".join(warehouse_name.splitlines())[:128],
        "current_stock": present,
        "reserved_stock": reserved,
        "available_stock": present - reserved if available is None else available,
    }


def ozon_rows(items: Iterable[object], account: str) -> Normalized:
    out = Normalized()
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("offer_id"), str) or not item["offer_id"].strip():
            # Whose stock this was cannot be told: the answer is incomplete, not a sell-out of anything.
            out.problems.append(f"ozon item #{n} names no offer_id: {item!r:.80}")
            continue
        offer_id = item["offer_id"]  # exact: "ABC " and "ABC" are two offers
        stocks = item.get("stocks")
        if not isinstance(stocks, list):
            out.skipped.append(f"ozon {offer_id}: stocks is not a list")
            out.keep.append(Keep(offer_id))
            continue
        for stock in stocks:
            present = _count(stock.get("present")) if isinstance(stock, dict) else None
            reserved = _count(stock.get("reserved")) if isinstance(stock, dict) else None
            kind = stock.get("type") if isinstance(stock, dict) else None
            if present is None or reserved is None or kind not in OZON_TYPES:
                out.skipped.append(f"ozon {offer_id}: unreadable stock row {stock!r:.80}")
                out.keep.append(Keep(offer_id, kind if kind in OZON_TYPES else None))
                continue
            warehouses = stock.get("warehouse_ids") or []
            warehouse = str(warehouses[0]) if isinstance(warehouses, list) and len(warehouses) == 1 else ""
            _add(
                out,
                row(
                    "ozon",
                    account,
                    offer_id,
                    warehouse,
                    kind,
                    product_id=str(item.get("product_id", "")),
                    marketplace_sku=str(stock.get("sku", "")),
                    warehouse_name="" if warehouse else f"Ozon {kind.upper()} (all warehouses)",
                    present=present,
                    reserved=reserved,
                ),
                f"ozon {offer_id[:40]}",
            )
    return out


def wb_warehouse_key(name: str) -> str:
    """A WB warehouse's ledger id from its name (the remains report has no ids): the name itself,
    or, when longer than the column, its start and a digest that keeps two long names apart."""
    if len(name) <= TEXT_LIMITS["warehouse_id"]:
        return name
    return f"{name[:23]}~{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def _remains_warehouses(entries: list) -> tuple[dict[str, int], dict[str, int]] | None:
    """A remains row's warehouses as (units per warehouse, the report's summary lines by role), or
    None when an entry cannot be read. WB leaves out entries with nothing in them."""
    shelves: dict[str, int] = {}
    summaries: dict[str, int] = {}
    for entry in entries:
        name = entry.get("warehouseName") if isinstance(entry, dict) else None
        quantity = _count(entry.get("quantity")) if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip() or quantity is None:
            return None
        if name in REMAINS_SUMMARIES:
            summaries[REMAINS_SUMMARIES[name]] = quantity
        else:
            shelves[name.strip()] = shelves.get(name.strip(), 0) + quantity
    return shelves, summaries


def _field(items: list, name: str) -> list:
    """``name`` of each item of a page (None for an item that is not an object), to look up at once."""
    return [item.get(name) if isinstance(item, dict) else None for item in items]


def _wb_row(
    account: str, size: WbSize, chrt: int | None, warehouse_id: str, stock_type: str, warehouse_name: str, **figures
) -> dict:
    """A Wildberries ledger row: the size's seller SKU, its card's nmID as the product, its chrtID as
    the marketplace SKU."""
    return row(
        "wb",
        account,
        size.sku,
        warehouse_id,
        stock_type,
        product_id=str(size.nm_id),
        marketplace_sku=str(chrt),
        warehouse_name=warehouse_name,
        **figures,
    )


def _holds_stock(entries: object) -> bool:
    """Whether a remains row's warehouses hold anything at all (as far as they can be read)."""
    return isinstance(entries, list) and any(
        isinstance(e, dict) and (_count(e.get("quantity")) or 0) != 0 for e in entries
    )


def wb_remains_rows(items: Iterable[object], cards: WbCards, account: str) -> Normalized:
    """The warehouse-remains report, one row per size (grouped by card and size), its warehouses in
    ``warehouses[]`` with the report's summary lines among them."""
    out = Normalized()
    items = list(items)
    found = cards.by_card_size(_field(items, "nmId"), _field(items, "techSize"))
    for item, known in zip(items, found, strict=True):
        if not isinstance(item, dict):
            out.problems.append(f"wb remains row {item!r:.60}: not an object")
            continue
        label = f"wb remains row nmId={item.get('nmId')} techSize={item.get('techSize')!r}"
        warehouses = item.get("warehouses")
        if known is None:
            if _holds_stock(warehouses):  # stock no card accounts for: the card listing was incomplete
                out.problems.append(f"{label}: holds stock, but no card lists this size")
            continue
        chrt, size = known
        read = _remains_warehouses(warehouses) if isinstance(warehouses, list) else None
        if read is None:
            out.skipped.append(f"{label}: unreadable warehouses")
            out.keep.append(Keep(size.sku, "fbw"))
            continue
        shelves, summaries = read
        if "on_shelves" in summaries and summaries["on_shelves"] != sum(shelves.values()):
            out.skipped.append(
                f"{label}: its warehouses hold {sum(shelves.values())}, its own total says {summaries['on_shelves']}"
            )
            out.keep.append(Keep(size.sku, "fbw"))
            continue
        for name, quantity in shelves.items():
            _add(
                out,
                _wb_row(account, size, chrt, wb_warehouse_key(name), "fbw", name, present=quantity, reserved=0),
                label,
            )
        to_client = summaries.get("to_client", 0)
        if to_client:
            on_way = _wb_row(
                account,
                size,
                chrt,
                IN_WAY_TO_CLIENT,
                "fbw",
                REMAINS_IN_WAY,
                present=to_client,
                reserved=to_client,
                available=0,
            )
            _add(out, on_way, label)
    return out


def wb_warehouse_rows(items: Iterable[object], cards: WbCards, account: str) -> Normalized:
    out = Normalized()
    items = list(items)
    sizes = cards.sizes(_field(items, "chrtId"))
    for item, size in zip(items, sizes, strict=True):
        if not isinstance(item, dict):
            out.problems.append(f"wb report row {item!r:.60}: not an object")
            continue
        label = f"wb report row nmId={item.get('nmId')} chrtId={item.get('chrtId')}"
        chrt = _count(item.get("chrtId"))
        quantity, to_client = _count(item.get("quantity")), _count(item.get("inWayToClient", 0))
        if size is None:
            if quantity or to_client:
                out.problems.append(f"{label}: holds stock, but no card lists this size")
            continue
        if quantity is None or to_client is None or item.get("warehouseId") is None:
            out.skipped.append(f"{label}: unreadable figures")
            out.keep.append(Keep(size.sku, "fbw"))
            continue
        aggregate = _wb_row(
            account,
            size,
            chrt,
            str(item["warehouseId"]),
            "fbw",
            str(item.get("warehouseName", "")),
            present=quantity + to_client,
            reserved=to_client,
            available=quantity,
        )
        _add(out, aggregate, label)
    return out


def wb_seller_rows(
    stocks: Iterable[object], warehouse_id: int, warehouse_name: str, cards: WbCards, account: str
) -> Normalized:
    out = Normalized()
    stocks = list(stocks)
    sizes = cards.sizes(_field(stocks, "chrtId"))
    for stock, size in zip(stocks, sizes, strict=True):
        chrt = _count(stock.get("chrtId")) if isinstance(stock, dict) else None
        amount = _count(stock.get("amount")) if isinstance(stock, dict) else None
        if size is None:
            out.problems.append(f"seller warehouse {warehouse_id} answered a size no card lists: {stock!r:.60}")
            continue
        if amount is None:
            out.skipped.append(f"wb seller stock {stock!r:.60}: unreadable amount")
            out.keep.append(Keep(size.sku, "fbs", str(warehouse_id)))
            continue
        seller = _wb_row(account, size, chrt, str(warehouse_id), "fbs", warehouse_name, present=amount, reserved=0)
        _add(out, seller, f"wb seller stock chrtId={chrt}")
    return out
