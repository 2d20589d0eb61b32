"""The cron stock-sync service's anomaly queries as pure functions over the ledger and its latest
changes, each finding with a severity by how much it means something is wrong.

Rules and their severity:

- ``error``: negative stock or reserve; stock above ``MAX_STOCK_VALUE`` (an absurd value).
- ``warn``: reserved above present (oversold); rows older than ``MAX_SYNC_AGE_HOURS``.
- ``info``: a fall of more than ``ANOMALY_THRESHOLD`` (10 %) of a row's stock that also moves at
  least ``ANOMALY_MIN_UNITS`` units (5 → 4 is 20 % but no news), or to zero; a SKU the source stopped
  reporting.
  Sales and delistings make these every day: they are listed, never alerted on one by one.

Restocks are not anomalies. What does mean trouble in a sync is its size: ``ANOMALY_ERROR_COUNT``
rows brought to zero at once (vanished or answered as 0), or a source's slice losing, net, more than
``ANOMALY_COLLAPSE_SHARE`` of its units in one sync (a collapse the row counts alone would not show)
fail the check with ERROR. Only the changes of the sync being judged count: a later run of another
source does not judge them again.
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
        latest_changes = latest_changes.reset_index(drop=True)
        changes = latest_changes[latest_changes.change == "changed"]
        before, after = changes.current_before.astype(float), changes.current_after.astype(float)
        fall = before - after
        sold_out = (after == 0) & (before > 0)
        drops = changes[
            sold_out | ((fall / before.where(before > 0) > rules.drop_share) & (fall >= rules.drop_min_units))
        ]
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


def units_moved(latest_changes: pd.DataFrame) -> pd.DataFrame:
    """Per source: the net units its sync took away (falls and vanished rows, less what rose
    elsewhere: a transfer between two warehouses moves nothing) and how many rows it brought to zero."""
    if latest_changes.empty:
        return pd.DataFrame(columns=["source", "net_lost", "zeroed"])
    before = latest_changes.current_before.fillna(0).astype(float)
    after = latest_changes.current_after.astype(float)
    frame = latest_changes.assign(net_lost=before - after, zeroed=((after == 0) & (before > 0)).astype(int))
    return frame.groupby("source", as_index=False)[["net_lost", "zeroed"]].sum()


def judge(
    found: pd.DataFrame, moved: pd.DataFrame, totals: dict[str, int], rules: AnomalyRules
) -> tuple[pd.DataFrame, checks.Verdict, AssetCheckSeverity]:
    """One check over a sync's findings. ``moved``: ``units_moved`` of this sync's changes;
    ``totals``: each source's units in the account's ledger now. ERROR for an absurd value, a mass
    vanishing (ANOMALY_ERROR_COUNT rows brought to zero in one sync) or a collapse (more than
    ANOMALY_COLLAPSE_SHARE of a source's units, net, and at least ten times ANOMALY_MIN_UNITS); WARN for
    oversold or stale rows; a pass when only the day's ordinary falls and delistings were seen. The rows
    behind a mass vanishing or a collapse are raised to ``error``, so that counts and verdict agree."""
    found = found.copy()
    problems: list[str] = []
    for rule in ("negative", "above_max", "reserved_over_present", "stale"):
        n = int((found.rule == rule).sum()) if not found.empty else 0
        if n:
            problems.append(f"{n} {rule.replace('_', ' ')}")
    severe = not found.empty and bool((found.severity == "error").any())
    for row in moved.itertuples():
        before = totals.get(row.source, 0) + row.net_lost
        reasons = []
        if row.zeroed >= rules.vanished_error_count:
            reasons.append(
                f"{row.zeroed} rows brought to zero in one sync (ANOMALY_ERROR_COUNT={rules.vanished_error_count})"
            )
        if before > 0 and row.net_lost >= 10 * rules.drop_min_units and row.net_lost / before > rules.collapse_share:
            reasons.append(
                f"{row.net_lost:,.0f} of {before:,.0f} units gone in one sync ({row.net_lost / before:.0%}, "
                f"more than ANOMALY_COLLAPSE_SHARE={rules.collapse_share:.0%})"
            )
        if reasons:
            severe = True
            problems.extend(f"{row.source}: {r}" for r in reasons)
            if not found.empty:
                behind = (found.source == row.source) & found.rule.isin(["drop", "vanished"])
                found.loc[behind, "severity"] = "error"
    counts = found.severity.value_counts().to_dict() if not found.empty else {}
    meta = {"errors": counts.get("error", 0), "warnings": counts.get("warn", 0), "listed": counts.get("info", 0)}
    name = "anomalies_within_limits"
    if severe or meta["warnings"]:
        severity = AssetCheckSeverity.ERROR if severe else AssetCheckSeverity.WARN
        return found, checks.Verdict(name, False, "; ".join(problems), meta), severity
    listed = f"{meta['listed']} ordinary falls and delistings listed" if meta["listed"] else "nothing found"
    return found, checks.Verdict(name, True, f"no anomaly: {listed}", meta), AssetCheckSeverity.WARN
