"""The cron stock-sync service's anomaly queries as pure functions over the ledger and its latest
changes, each finding with a severity by how much it means something is wrong.

Rules and their severity:

- ``error``: negative stock or reserve; stock above ``MAX_STOCK_VALUE`` (an absurd value).
- ``warn``: reserved above present (oversold); rows older than ``MAX_SYNC_AGE_HOURS``.
- ``info``: a fall of more than ``ANOMALY_THRESHOLD`` (10 %) of a row's stock that also moves at
  least ``ANOMALY_MIN_UNITS`` units (5 → 4 is 20 % but no news); a SKU the source stopped reporting.
  Sales and delistings make these every day: they are listed, never alerted on one by one.

Restocks are not anomalies. What does mean trouble in a sync is its size: ``ANOMALY_ERROR_COUNT``
rows vanishing at once, or a source's slice losing more than ``ANOMALY_COLLAPSE_SHARE`` of its units
in one sync (a collapse the row counts alone would not show) fail the check with ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from dagster import AssetCheckSeverity

from inventory_pipeline import checks
from inventory_pipeline.settings import MAX_STOCK_VALUE

KEY = ["source", "account", "sku", "warehouse_id", "stock_type"]
COLUMNS = [*KEY, "rule", "severity", "value", "detail"]
SEVERITY = {
    "negative": "error",
    "above_max": "error",
    "reserved_over_present": "warn",
    "stale": "warn",
    "drop": "info",
    "vanished": "info",
}
RANK = {"error": 0, "warn": 1, "info": 2}


@dataclass(frozen=True)
class AnomalyRules:
    max_stock: int = MAX_STOCK_VALUE
    drop_share: float = 0.1
    drop_min_units: int = 5
    max_age_hours: float = 8
    vanished_error_count: int = 100
    collapse_share: float = 0.3


def detect(ledger: pd.DataFrame, latest_changes: pd.DataFrame, now: datetime, rules: AnomalyRules) -> pd.DataFrame:
    """``ledger``: KEY + current_stock, reserved_stock, last_sync_at. ``latest_changes``: KEY +
    current_before, current_after, change (the latest apply of each source). Sorted by severity,
    then by size."""
    found = []

    def add(rows: pd.DataFrame, rule: str, value: pd.Series, detail: pd.Series | str) -> None:
        if not rows.empty:
            text = detail if isinstance(detail, str) else detail.values
            found.append(
                rows[KEY].assign(rule=rule, severity=SEVERITY[rule], value=value.astype(float).values, detail=text)
            )

    negative = ledger[(ledger.current_stock < 0) | (ledger.reserved_stock < 0)]
    add(
        negative,
        "negative",
        negative[["current_stock", "reserved_stock"]].min(axis=1),
        "present " + negative.current_stock.astype(str) + ", reserved " + negative.reserved_stock.astype(str),
    )
    big = ledger[ledger.current_stock > rules.max_stock]
    add(big, "above_max", big.current_stock, f"more than {rules.max_stock:,} units")
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
        fall = before - after
        drops = changes[(fall / before.where(before > 0) > rules.drop_share) & (fall >= rules.drop_min_units)]
        add(
            drops,
            "drop",
            (fall / before)[drops.index],
            drops.current_before.astype(int).astype(str) + " → " + drops.current_after.astype(str),
        )
        gone = latest_changes[latest_changes.change == "vanished"]
        add(gone, "vanished", gone.current_before.astype(float), "no longer reported by the source")
    if not found:
        return pd.DataFrame(columns=COLUMNS)
    result = pd.concat(found, ignore_index=True)
    order = result.severity.map(RANK)
    return result.assign(_rank=order).sort_values(["_rank", "value"], ascending=[True, False]).drop(columns="_rank")


def units_lost(latest_changes: pd.DataFrame) -> pd.DataFrame:
    """Per source: units its latest apply took away (falls and vanished rows) and added."""
    if latest_changes.empty:
        return pd.DataFrame(columns=["source", "lost", "gained"])
    before = latest_changes.current_before.fillna(0).astype(float)
    moved = latest_changes.current_after.astype(float) - before
    frame = latest_changes.assign(lost=(-moved).clip(lower=0), gained=moved.clip(lower=0))
    return frame.groupby("source", as_index=False)[["lost", "gained"]].sum()


def verdict(
    found: pd.DataFrame, moved: pd.DataFrame, totals: dict[str, int], rules: AnomalyRules
) -> tuple[checks.Verdict, AssetCheckSeverity]:
    """One check over a sync's findings. ``moved``: ``units_lost``; ``totals``: each source's units
    in the account's ledger now. ERROR for an absurd value, a mass vanishing or a collapse; WARN for
    oversold or stale rows; a pass when only the day's ordinary falls and delistings were seen."""
    counts = found.severity.value_counts().to_dict() if not found.empty else {}
    meta = {"errors": counts.get("error", 0), "warnings": counts.get("warn", 0), "listed": counts.get("info", 0)}
    problems: list[str] = []
    for rule in ("negative", "above_max", "reserved_over_present", "stale"):
        n = int((found.rule == rule).sum()) if not found.empty else 0
        if n:
            problems.append(f"{n} {rule.replace('_', ' ')}")
    vanished = found[found.rule == "vanished"].groupby("source").size().to_dict() if not found.empty else {}
    severe = bool(meta["errors"])
    for source, n in sorted(vanished.items()):
        if n >= rules.vanished_error_count:
            severe = True
            limit = rules.vanished_error_count
            problems.append(f"{source}: {n} rows vanished in one sync (ANOMALY_ERROR_COUNT={limit})")
    for row in moved.itertuples():
        before = totals.get(row.source, 0) + row.lost - row.gained
        if before > 0 and row.lost / before > rules.collapse_share:
            severe = True
            problems.append(
                f"{row.source}: {row.lost:,.0f} of {before:,.0f} units gone in one sync ({row.lost / before:.0%}, "
                f"more than ANOMALY_COLLAPSE_SHARE={rules.collapse_share:.0%})"
            )
    name = "anomalies_within_limits"
    if severe or meta["warnings"]:
        severity = AssetCheckSeverity.ERROR if severe else AssetCheckSeverity.WARN
        return checks.Verdict(name, False, "; ".join(problems), meta), severity
    listed = f"{meta['listed']} ordinary falls and delistings listed" if meta["listed"] else "nothing found"
    return checks.Verdict(name, True, f"no anomaly: {listed}", meta), AssetCheckSeverity.WARN
