"""Signals nobody pushes: Wildberries' new FBS orders (WB has no webhooks for a seller's own token)
and, as the fallback Ozon itself advises, Ozon's FBS postings awaiting packaging."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from inventory_pipeline.defs.signals import queue
from inventory_pipeline.defs.signals.messages import (
    Signal,
    parse_time,
    wb_cancelled,
    wb_order_id,
    wb_order_key,
    wb_order_signal,
)
from inventory_pipeline.resources.ozon import OzonSellerResource
from inventory_pipeline.resources.wildberries import WildberriesResource


def wb_orders(api: WildberriesResource, account: str) -> list[Signal]:
    return [s for s in (wb_order_signal(o, account) for o in api.new_orders() if isinstance(o, dict)) if s]


def wb_cancellations(api: WildberriesResource, engine: Engine, account: str, now: datetime) -> list[Signal]:
    """The orders of the last day WB now calls cancelled: the unit is back on the seller's shelf."""
    orders = {
        wb_order_id(key): (ref, wh) for key, ref, wh in queue.recent_wb_orders(engine, account, now - timedelta(days=1))
    }
    orders.pop(None, None)
    if not orders:
        return []
    out = []
    for status in api.order_statuses(sorted(orders)):
        order_id = status.get("id") if isinstance(status, dict) else None
        if order_id in orders and wb_cancelled(status):
            chrt, warehouse = orders[order_id]
            kind = "wb_order_cancelled"
            out.append(
                Signal("wb", account, kind, "chrt_id", chrt, warehouse, wb_order_key(account, kind, order_id), now)
            )
    return out


def ozon_unfulfilled(api: OzonSellerResource, account: str, now: datetime) -> list[Signal]:
    """Each posting line awaiting packaging, keyed as its new-posting push would be: a posting both
    pushed and polled is one signal."""
    seller = api.client_id.strip()
    since, to = (now - timedelta(days=7)).isoformat() + "Z", (now + timedelta(days=14)).isoformat() + "Z"
    out = []
    for posting in api.unfulfilled_postings(since, to):
        number = posting.get("posting_number") if isinstance(posting, dict) else None
        if not isinstance(number, str):
            continue
        warehouse = str((posting.get("delivery_method") or {}).get("warehouse_id") or "")
        for product in posting.get("products") or []:
            offer = product.get("offer_id") if isinstance(product, dict) else None
            if isinstance(offer, str) and offer:
                out.append(
                    Signal(
                        "ozon",
                        account,
                        "TYPE_NEW_POSTING",
                        "offer_id",
                        offer,
                        warehouse,
                        f"ozon:{seller}:TYPE_NEW_POSTING:{number}:{offer}",
                        parse_time(posting.get("in_process_at")),
                    )
                )
    return out
