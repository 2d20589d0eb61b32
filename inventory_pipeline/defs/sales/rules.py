"""Sales, product status and stock events: pure rules over plain rows and DataFrames.

Rows in ``sales``: one per marketplace event, dated by the marketplace's own day (Moscow time):
``order`` (a buyer ordered; ``cancelled`` when the order was cancelled), ``sale`` (WB: the buyer took
it) and ``return`` (WB: quantity −1). Units sold in a period = orders not cancelled − returns.

Product status (thresholds are settings):
* ``absolute_new``: first seen within ``ABSOLUTE_NEW_DAYS`` (14) and never ordered yet: too young
  for its sales to mean anything, so it raises no low-stock alerts;
* ``new``: first order within ``NEW_PRODUCT_DAYS`` (30): demand is still finding its level;
* ``ordinary``: everything else.

LowOnStock fires when days of cover (available units ÷ average daily units ordered over the last
``SALES_WINDOW_DAYS`` on days the SKU was in stock) fall below the status's threshold: 12.2 days
for ordinary products and 6.2 for new ones (the Stock Service's two ratios). No sales means no cover
figure and no alert. StockFBOOver / StockFBOReceived fire when a SKU's stock in the
marketplace's own warehouses crosses ``FBO_THRESHOLD`` (10) downwards / upwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from inventory_pipeline.clock import day_bounds, utc_from_marketplace
from inventory_pipeline.defs.stock.wb_sku import WbSkuRule

# Ozon's FBO and Wildberries' FBW are the same idea: stock in the marketplace's own warehouses.
MARKETPLACE_WAREHOUSE_TYPES = {"fbo", "fbw"}
STOCK_TYPES = MARKETPLACE_WAREHOUSE_TYPES | {"fbs", "rfbs"}  # what a marketplace can sell; not the supplier's


def sale_row(
    source: str,
    account: str,
    day: date,
    kind: str,
    external_id: str,
    sku: str,
    scheme: str,
    quantity: int,
    amount: float,
    cancelled: bool,
    event_at: datetime,
) -> dict:
    """One row of ``sales_records``; the marketplace's id cut to its column's 96 characters."""
    return {
        "source": source,
        "account": account,
        "sale_date": day,
        "kind": kind,
        "external_id": external_id[:96],
        "sku": sku,
        "scheme": scheme,
        "quantity": quantity,
        "amount": amount,
        "cancelled": cancelled,
        "event_at": event_at,
    }


def wb_rows(orders: list[dict], sales: list[dict], account: str, day: date, rule: WbSkuRule) -> list[dict]:
    """WB statistics rows of one day → sales rows; rows dated another day are left out. A row's SKU is
    its size's, by the rule the stock rows use (its article, ``techSize`` and barcode)."""

    def sku(r: dict) -> str:
        article = str(r.get("supplierArticle", ""))
        return rule.sku(article, r.get("techSize"), [r.get("barcode")]) or article

    out = []
    for r in orders:
        if str(r.get("date", ""))[:10] != day.isoformat() or not r.get("srid"):
            continue
        out.append(
            sale_row(
                "wb",
                account,
                day,
                "order",
                str(r["srid"]),
                sku(r),
                "fbw" if r.get("warehouseType") == "Склад WB" else "fbs",
                1,
                float(r.get("priceWithDisc") or 0),
                bool(r.get("isCancel")),
                utc_from_marketplace(r["date"]),
            )
        )
    for r in sales:
        sale_id = str(r.get("saleID", ""))
        if str(r.get("date", ""))[:10] != day.isoformat() or sale_id[:1] not in {"S", "R"}:
            continue
        returned = sale_id.startswith("R")
        out.append(
            sale_row(
                "wb",
                account,
                day,
                "return" if returned else "sale",
                sale_id,
                sku(r),
                "fbw" if r.get("warehouseType") == "Склад WB" else "fbs",
                -1 if returned else 1,
                float(r.get("forPay") or 0),
                False,
                utc_from_marketplace(r["date"]),
            )
        )
    return out


def ozon_rows(postings: list[dict], scheme: str, account: str, day: date) -> list[dict]:
    """Ozon postings created on one Moscow day → one order row per posting line."""
    start, end = day_bounds(day)
    out = []
    for p in postings:
        created = datetime.fromisoformat(str(p.get("created_at") or p.get("in_process_at")).replace("Z", "+00:00"))
        if not start <= created < end:
            continue
        for line in p.get("products") or []:
            quantity = int(line.get("quantity") or 1)
            price = float((line.get("price") or {}).get("amount") or 0)
            out.append(
                sale_row(
                    "ozon",
                    account,
                    day,
                    "order",
                    f"{p['posting_number']}:{line.get('sku')}",
                    str(line.get("offer_id", "")),
                    scheme,
                    quantity,
                    round(price * quantity, 2),
                    p.get("status") == "cancelled",
                    created.astimezone(UTC).replace(tzinfo=None),
                )
            )
    return out


# Returns that take back a sale: refused at delivery, whole or in part, or brought back after it. A
# cancellation before delivery is not one: its posting is already cancelled, and so not counted.
OZON_RETURN_TYPES = {"ClientReturn", "FullReturn", "PartialReturn"}


def ozon_return_rows(returns: list[dict], account: str, day: date) -> list[dict]:
    """Ozon returns (``/v1/returns/list``) the buyer brought back on one Moscow day → return rows
    (quantity −units), counted as WB's are."""
    start, end = day_bounds(day)
    out = []
    for r in returns:
        product, logistic = r.get("product") or {}, r.get("logistic") or {}
        when = logistic.get("return_date")
        if r.get("type") not in OZON_RETURN_TYPES or not when or r.get("id") is None:
            continue
        back = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
        if not start <= back < end:
            continue
        quantity = int(product.get("quantity") or 1)
        price = float((product.get("price") or {}).get("price") or 0)
        out.append(
            sale_row(
                "ozon",
                account,
                day,
                "return",
                f"return:{r['id']}",
                str(product.get("offer_id", "")),
                str(r.get("schema", "")).lower() or "fbo",
                -quantity,
                -round(price * quantity, 2),
                False,
                back.astimezone(UTC).replace(tzinfo=None),
            )
        )
    return out


def units(sales: pd.DataFrame) -> pd.Series:
    """Units sold per row: orders not cancelled count, returns take one back, the rest count nothing."""
    counted = (sales["kind"] == "order") & ~sales["cancelled"].astype(bool)
    return sales["quantity"].where(counted, 0) + sales["quantity"].where(sales["kind"] == "return", 0)


def revenue(sales: pd.DataFrame) -> pd.Series:
    counted = (sales["kind"] == "order") & ~sales["cancelled"].astype(bool)
    return sales["amount"].where(counted, 0.0) + sales["amount"].where(sales["kind"] == "return", 0.0)


def in_stock_days(current: pd.DataFrame, history: pd.DataFrame, days: list[date]) -> pd.DataFrame:
    """Whether each (source, account, sku) had stock at the end of each day, rebuilt from the ledger
    (``current``: key columns, current_stock, first_seen_at) and ``history`` (key columns, changed_at,
    current_before). At a moment t a row held the ``current_before`` of its first change after t, or
    its current value when it has not changed since, and nothing before it was first seen."""
    key = ["source", "account", "sku", "warehouse_id", "stock_type"]
    # A row that appeared at a change held nothing before it.
    history = history.assign(current_before=history["current_before"].fillna(0)).sort_values("changed_at")
    now = current.set_index(key)
    frames = []
    for day in days:
        _, end = day_bounds(day)
        t = end.replace(tzinfo=None)
        later = history[history["changed_at"] > t].groupby(key, sort=False)["current_before"].first()
        level = later.reindex(now.index).fillna(now["current_stock"])
        level[now["first_seen_at"] > t] = 0
        per_sku = level.clip(lower=0).groupby(level=["source", "account", "sku"]).sum()
        frames.append(pd.DataFrame({"in_stock": per_sku > 0, "day": day}))
    if not frames:
        return pd.DataFrame(columns=["source", "account", "sku", "day", "in_stock"])
    return pd.concat(frames).reset_index()


def analyse(sales: pd.DataFrame, stock_days: pd.DataFrame, days: list[date]) -> pd.DataFrame:
    """Per SKU over the period: units, revenue, days in stock, average daily units on in-stock days,
    and the theoretical units had it been in stock every day."""
    keys = ["source", "account", "sku"]
    sales = sales.assign(units=units(sales), revenue=revenue(sales))
    per_day = sales.groupby([*keys, "sale_date"], as_index=False)[["units", "revenue"]].sum()
    per_day = per_day.rename(columns={"sale_date": "day"})
    merged = stock_days.merge(per_day, on=[*keys, "day"], how="outer").fillna(
        {"units": 0, "revenue": 0.0, "in_stock": False}
    )
    merged["in_stock"] = merged["in_stock"].astype(bool) | (merged["units"] > 0)  # a sale proves stock
    merged["units_in_stock"] = merged["units"].where(merged["in_stock"], 0)
    out = merged.groupby(keys, as_index=False).agg(
        units=("units", "sum"),
        revenue=("revenue", "sum"),
        days_in_stock=("in_stock", "sum"),
        units_in_stock=("units_in_stock", "sum"),
    )
    out["avg_daily_units_in_stock"] = (
        (out["units_in_stock"] / out["days_in_stock"].where(out["days_in_stock"] > 0)).fillna(0.0).round(3)
    )
    out["theoretical_units"] = (out["avg_daily_units_in_stock"] * len(days)).round(2)
    return out.drop(columns="units_in_stock").astype({"units": int, "days_in_stock": int})


@dataclass(frozen=True)
class StatusRules:
    absolute_new_days: int = 14
    new_days: int = 30


def classify(first_seen: datetime | None, first_order: datetime | None, now: datetime, rules: StatusRules) -> str:
    if first_order is None:
        seen_recently = first_seen is not None and now - first_seen <= timedelta(days=rules.absolute_new_days)
        return "absolute_new" if seen_recently else "ordinary"
    return "new" if now - first_order <= timedelta(days=rules.new_days) else "ordinary"


def status_changes(
    first_seen: dict[tuple, datetime],
    first_order: dict[tuple, datetime],
    known: dict[tuple, str],
    now: datetime,
    rules: StatusRules,
) -> list[tuple[tuple, str | None, str]]:
    """(key, old status or None, new status) for every product whose status is no longer what it was."""
    changes = []
    for key in first_seen.keys() | first_order.keys():
        status = classify(first_seen.get(key), first_order.get(key), now, rules)
        if known.get(key) != status:
            changes.append((key, known.get(key), status))
    return changes


def fbo_event(before: int, after: int, threshold: int = 10) -> str | None:
    """Stock in the marketplace's own warehouses crossing the threshold, either way."""
    if before >= threshold > after:
        return "StockFBOOver"
    if before < threshold <= after:
        return "StockFBOReceived"
    return None


@dataclass(frozen=True)
class CoverRules:
    days_by_status: tuple[tuple[str, float], ...] = (("ordinary", 12.2), ("new", 6.2))

    def limit(self, status: str) -> float | None:
        return dict(self.days_by_status).get(status)


def days_of_cover(available: int, avg_daily: float) -> float | None:
    return None if avg_daily <= 0 else max(0, available) / avg_daily


def low_on_stock(available: int, avg_daily: float, status: str, rules: CoverRules) -> float | None:
    """Days of cover when they are below the status's limit (an alert), else None."""
    cover, limit = days_of_cover(available, avg_daily), rules.limit(status)
    if cover is None or limit is None:
        return None
    return round(cover, 1) if cover < limit else None
