"""The cron stock-sync service's anomaly queries as one pure function over the ledger and its latest changes.

Rules: negative stock or reserve; stock above ``MAX_STOCK_VALUE``; a change larger than
``ANOMALY_THRESHOLD`` (10 %) since the previous snapshot that also moves at least
``ANOMALY_MIN_UNITS`` units (5 → 4 is 20 % but no news); rows older than ``MAX_SYNC_AGE_HOURS``;
SKUs the source stopped reporting; reserved above present.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from inventory_pipeline.settings import MAX_STOCK_VALUE

KEY = ["source", "account", "sku", "warehouse_id", "stock_type"]
COLUMNS = [*KEY, "rule", "value", "detail"]


@dataclass(frozen=True)
class AnomalyRules:
    max_stock: int = MAX_STOCK_VALUE
    jump_share: float = 0.1
    jump_min_units: int = 5
    max_age_hours: float = 8


def detect(ledger: pd.DataFrame, latest_changes: pd.DataFrame, now: datetime, rules: AnomalyRules) -> pd.DataFrame:
    """``ledger``: KEY + current_stock, reserved_stock, last_sync_at. ``latest_changes``: KEY +
    current_before, current_after, change (the latest apply of each source)."""
    found = []

    def add(rows: pd.DataFrame, rule: str, value: pd.Series, detail: pd.Series | str) -> None:
        if not rows.empty:
            text = detail if isinstance(detail, str) else detail.values
            found.append(rows[KEY].assign(rule=rule, value=value.astype(float).values, detail=text))

    negative = ledger[(ledger.current_stock < 0) | (ledger.reserved_stock < 0)]
    add(
        negative,
        "negative",
        negative[["current_stock", "reserved_stock"]].min(axis=1),
        "present " + negative.current_stock.astype(str) + ", reserved " + negative.reserved_stock.astype(str),
    )
    big = ledger[ledger.current_stock > rules.max_stock]
    add(big, "above_max", big.current_stock, f"more than {rules.max_stock} units")
    over = ledger[ledger.reserved_stock > ledger.current_stock]
    add(
        over,
        "reserved_over_present",
        over.reserved_stock - over.current_stock,
        "reserved " + over.reserved_stock.astype(str) + " > present " + over.current_stock.astype(str),
    )
    stale = ledger[ledger.last_sync_at < now - timedelta(hours=rules.max_age_hours)]
    add(
        stale,
        "stale",
        (now - stale.last_sync_at).dt.total_seconds() / 3600,
        "last synced " + stale.last_sync_at.astype(str),
    )
    if not latest_changes.empty:
        changes = latest_changes[latest_changes.change == "changed"]
        before, after = changes.current_before.astype(float), changes.current_after.astype(float)
        share = (after - before).abs() / before.where(before > 0)
        jumps = changes[(share > rules.jump_share) & ((after - before).abs() >= rules.jump_min_units)]
        add(
            jumps,
            "jump",
            share[jumps.index],
            jumps.current_before.astype(int).astype(str) + " → " + jumps.current_after.astype(str),
        )
        gone = latest_changes[latest_changes.change == "vanished"]
        add(gone, "vanished", gone.current_before.astype(float), "no longer reported by the source")
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=COLUMNS)
