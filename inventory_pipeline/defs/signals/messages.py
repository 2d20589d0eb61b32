"""What a change signal says, as pure functions: an Ozon push message or a polled order turned into
the SKUs to read again. The figures a message carries are never applied: anyone who can reach the
receiver could send them, so the marketplace is asked again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

# Ozon push types that change a seller's stock, and what each names.
STOCK_TYPES = {"TYPE_STOCKS_CHANGED", "TYPE_FBO_STOCKS_CHANGED"}
POSTING_TYPES = {"TYPE_NEW_POSTING", "TYPE_POSTING_CANCELLED"}
# A posting's later states move present and reserved together: what is available does not change.
ACKNOWLEDGED = {"TYPE_STATE_CHANGED", "TYPE_CUTOFF_DATE_CHANGED", "TYPE_DELIVERY_DATE_CHANGED"}


class MessageError(ValueError):
    """A push message that cannot be read; ``code`` is Ozon's error code for the answer."""

    def __init__(self, message: str, code: str = "ERROR_PARAMETER_VALUE_MISSED") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Signal:
    source: str
    account: str
    kind: str
    ref_type: str  # offer_id, product_id, sku (Ozon's numeric SKU), chrt_id
    ref: str
    warehouse_id: str
    dedupe_key: str  # the same message twice (a retried delivery, a re-polled order) is one signal
    changed_at: datetime | None = None


def parse_time(value: object) -> datetime | None:
    """A marketplace timestamp as naive UTC, or None when it is missing or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed.astimezone(UTC) if parsed.tzinfo else parsed).replace(tzinfo=None, microsecond=0)


def _whole_number(value: object) -> bool:
    """An id as Ozon sends one: a whole number, or its ASCII digits."""
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and value >= 0) or (isinstance(value, str) and value.isascii() and value.isdigit())


def _digest(item: dict) -> str:
    """What tells two messages about one product apart when Ozon sends no ``updated_at``."""
    return hashlib.sha1(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _text(value: object, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise MessageError(f"{name} is missing")
    return str(value)


def ozon_signals(message: dict, account: str) -> list[Signal]:
    """The SKUs an Ozon push names (an empty list for a message that moves no available stock).
    Raises ``MessageError`` for a message that lacks what its type must carry."""
    kind = _text(message.get("message_type"), "message_type")
    seller = str(message.get("seller_id", ""))
    if kind == "TYPE_STOCKS_CHANGED":
        items = message.get("items")
        if not isinstance(items, list) or not items:
            raise MessageError("items is missing")
        out = []
        for item in items:
            # An item that names no product is left out; the others still count (Ozon would drop the
            # whole message after its retries if it were refused).
            product = item.get("product_id") if isinstance(item, dict) else None
            if not _whole_number(product):
                continue
            product = str(int(product))
            stamp = str(item.get("updated_at") or _digest(item))
            key = f"ozon:{seller}:{kind}:{product}:{stamp}"
            out.append(
                Signal("ozon", account, kind, "product_id", product, "", key, parse_time(item.get("updated_at")))
            )
        if not out:
            raise MessageError("no item names a product_id")
        return out
    if kind == "TYPE_FBO_STOCKS_CHANGED":
        sku = _text(message.get("sku"), "sku")
        stamp = str(message.get("updated_at", ""))
        return [Signal("ozon", account, kind, "sku", sku, "", f"ozon:{seller}:{kind}:{sku}:{stamp}", parse_time(stamp))]
    if kind in POSTING_TYPES:
        posting = _text(message.get("posting_number"), "posting_number")
        products = message.get("products")
        if not isinstance(products, list) or not products:
            raise MessageError("products is missing")
        warehouse = str(message.get("warehouse_id") or "")
        at = parse_time(message.get("in_process_at") or message.get("changed_state_date"))
        out = []
        for product in products:
            if not isinstance(product, dict):
                raise MessageError("a product is not an object")
            offer = product.get("offer_id")
            ref_type, ref = ("offer_id", str(offer)) if isinstance(offer, str) and offer else ("sku", "")
            if ref_type == "sku":
                ref = _text(product.get("sku"), "products[].sku or offer_id")
            out.append(
                Signal("ozon", account, kind, ref_type, ref, warehouse, f"ozon:{seller}:{kind}:{posting}:{ref}", at)
            )
        return out
    return []


def wb_order_signal(order: dict, account: str, kind: str = "wb_new_order") -> Signal | None:
    """The size an FBS assembly order (``/api/v3/orders/new``) takes stock from, or None when the
    order names no size or warehouse."""
    chrt, warehouse, order_id = order.get("chrtId"), order.get("warehouseId"), order.get("id")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (chrt, warehouse, order_id)):
        return None
    return Signal(
        "wb",
        account,
        kind,
        "chrt_id",
        str(chrt),
        str(warehouse),
        wb_order_key(account, kind, order_id),
        parse_time(order.get("createdAt")),
    )


# WB's answers that mean the order will not take the unit: the seller's or the buyer's cancellation.
WB_CANCELLED = {"supplierStatus": {"cancel"}, "wbStatus": {"canceled", "canceled_by_client", "declined_by_client"}}


def wb_order_key(account: str, kind: str, order_id: int) -> str:
    return f"wb:{account}:{kind}:{order_id}"


def wb_order_id(key: str) -> int | None:
    """The order id a WB order signal's key names."""
    tail = key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def wb_cancelled(status: dict) -> bool:
    return any(status.get(field) in values for field, values in WB_CANCELLED.items())


def ping_answer(now: datetime, version: str) -> dict:
    """Ozon's ping: who answers, and the time in UTC."""
    return {"version": version, "name": "inventory_pipeline", "time": now.strftime("%Y-%m-%dT%H:%M:%SZ")}


def error_answer(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "details": None}}
