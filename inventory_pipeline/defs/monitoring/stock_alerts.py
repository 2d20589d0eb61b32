"""Which stock events a change of the ledger raises: FBO crossings and low days of cover. Pure."""

from inventory_pipeline.defs.monitoring.events import StockEvent
from inventory_pipeline.defs.sales.rules import CoverRules, fbo_event, low_on_stock


def fbo_events(account: str, moved: list[tuple[str, str, int]], now: dict, threshold: int) -> list[StockEvent]:
    """StockFBOOver / StockFBOReceived for each (source, SKU) whose marketplace-warehouse units moved
    by ``delta`` to ``now[(source, sku)]`` across the threshold."""
    events = []
    for source, sku, delta in moved:
        after = now.get((source, sku), 0)
        kind = fbo_event(after - delta, after, threshold)
        if kind:
            figures = {"fbo_units_before": after - delta, "fbo_units_now": after}
            events.append(StockEvent(kind, source, account, sku, "fbo", figures))
    return events


def low_stock_events(
    account: str, sold: dict, statuses: dict, available: list[tuple], window_days: int, rules: CoverRules
) -> list[StockEvent]:
    """LowOnStock for each (source, SKU, stock group) whose days of cover, at its average daily
    orders over ``window_days``, are under its status's limit."""
    events = []
    for source, sku, stock_group, units in available:
        per_day = sold.get((source, sku, stock_group), 0) / window_days
        status = statuses.get(sku, "ordinary")
        cover = low_on_stock(int(units or 0), per_day, status, rules)
        if cover is not None:
            figures = {
                "available_units": int(units or 0),
                "days_of_cover": cover,
                "status": status,
                "daily_sales": round(per_day, 2),
            }
            events.append(StockEvent("LowOnStock", source, account, sku, stock_group, figures))
    return events
