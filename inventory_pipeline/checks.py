"""The rules behind the asset checks, as pure functions of numbers: easy to read, easy to test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dagster import AssetCheckResult, AssetCheckSeverity


@dataclass(frozen=True)
class Verdict:
    check: str
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)

    def result(self, severity: AssetCheckSeverity = AssetCheckSeverity.ERROR) -> AssetCheckResult:
        return AssetCheckResult(
            check_name=self.check,
            passed=self.passed,
            description=self.description,
            metadata=self.metadata,
            severity=severity,
        )


def enough_products(sku_count: int, minimum: int) -> Verdict:
    return Verdict(
        "enough_products",
        sku_count >= minimum,
        f"{sku_count} SKUs in the snapshot, at least {minimum} required (MIN_PRODUCTS_THRESHOLD)",
        {"sku_count": sku_count},
    )


def no_collapse(
    sku_count: int,
    row_count: int,
    previous_skus: int | None,
    previous_rows: int | None,
    max_drop: float,
    accepted_by_operator: bool = False,
) -> Verdict:
    """Fails when SKUs or stock rows fell by more than ``max_drop`` against the last accepted snapshot."""
    meta = {
        "sku_count": sku_count,
        "row_count": row_count,
        "previous_sku_count": previous_skus or 0,
        "previous_row_count": previous_rows or 0,
    }
    if not previous_skus:
        return Verdict(
            "no_collapse", True, "first accepted snapshot of this source and account: nothing to compare", meta
        )
    drops = {"SKUs": 1 - sku_count / previous_skus, "stock rows": 1 - row_count / max(1, previous_rows or 0)}
    worst_name, worst = max(drops.items(), key=lambda kv: kv[1])
    meta["worst_drop"] = round(worst, 4)
    if worst > max_drop and accepted_by_operator:
        return Verdict(
            "no_collapse", True, f"{worst_name} fell by {worst:.0%}; accepted by run config accept_collapse", meta
        )
    if worst > max_drop:
        return Verdict(
            "no_collapse",
            False,
            f"{worst_name} fell by {worst:.0%} against the last accepted snapshot "
            f"({previous_skus} → {sku_count} SKUs, {previous_rows} → {row_count} rows); more than "
            f"MAX_SNAPSHOT_DROP={max_drop:.0%}. Nothing was written. If the catalogue really shrank, "
            "re-run with the snapshot's run config accept_collapse: true.",
            meta,
        )
    return Verdict("no_collapse", True, f"largest drop {max(0.0, worst):.0%} (limit {max_drop:.0%})", meta)


PART_MIN_LOSS = 10  # fewer lost rows than this is ordinary churn in a small warehouse, not a lost answer


def parts_complete(
    parts: dict[str, int],
    previous: dict[str, int],
    max_drop: float,
    problems: list[str],
    accepted_by_operator: bool = False,
) -> Verdict:
    """Every part of a snapshot answered in full: no part (WB's warehouse report, one seller warehouse)
    lost more than ``max_drop`` of its rows against the last accepted snapshot, and no answer was
    inconsistent. A whole part going quiet hides in a large total, so each part is judged alone."""
    dropped = [
        f"{part}: {before} → {parts.get(part, 0)} rows"
        for part, before in sorted(previous.items())
        if before - parts.get(part, 0) >= PART_MIN_LOSS and 1 - parts.get(part, 0) / before > max_drop
    ]
    meta = {"parts": len(parts), "parts_dropped": len(dropped), "problems": len(problems)}
    findings = [*problems, *dropped]
    if not findings:
        return Verdict("complete", True, f"all {len(parts)} parts answered in full", meta)
    text = "; ".join(findings[:5]) + (f"; and {len(findings) - 5} more" if len(findings) > 5 else "")
    if accepted_by_operator:
        return Verdict("complete", True, f"{text}; accepted by run config accept_collapse", meta)
    return Verdict(
        "complete",
        False,
        f"incomplete answer: {text}. Nothing was written; a re-run fetches again. If this is real, re-run "
        "with the snapshot's run config accept_collapse: true.",
        meta,
    )


def complete(received: int, expected: int | None, problems: list[str] | None = None) -> Verdict:
    """Paging delivered as many items as the API's own count announced, each one readable as whose."""
    problems = problems or []
    meta = {"received": received, "expected": -1 if expected is None else expected, "problems": len(problems)}
    counted = (
        f"{received} items; the API sent no total to compare with"
        if expected is None
        else f"received {received} of the {expected} items the API announced (total_items)"
    )
    if problems:
        text = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        return Verdict("complete", False, f"incomplete answer: {text} ({counted}). Nothing was written.", meta)
    return Verdict("complete", expected is None or received == expected, counted, meta)


def fresh(last_sync: dict[str, datetime | None], now: datetime, max_age_hours: float) -> Verdict:
    """Every source's newest ``last_sync_at`` is within ``MAX_SYNC_AGE_HOURS``."""
    limit = timedelta(hours=max_age_hours)
    ages = {source: (now - at).total_seconds() / 3600 if at else None for source, at in last_sync.items()}
    stale = sorted(s for s, age in ages.items() if age is None or age > max_age_hours)
    # A source never synced has no age to chart: the description says so.
    meta = {f"{s}_age_hours": round(a, 2) for s, a in ages.items() if a is not None}
    if stale:
        details = ", ".join(f"{s} ({'never synced' if ages[s] is None else f'{ages[s]:.1f} h'})" for s in stale)
        return Verdict("fresh_per_source", False, f"stale beyond {limit.total_seconds() / 3600:g} h: {details}", meta)
    return Verdict("fresh_per_source", True, f"every source synced within {max_age_hours:g} h", meta)


def no_negative_stock(negative_rows: int) -> Verdict:
    return Verdict(
        "no_negative_stock",
        negative_rows == 0,
        f"{negative_rows} rows with negative stock or reserve",
        {"negative_rows": negative_rows},
    )


def stock_within_limit(above_rows: int, limit: int) -> Verdict:
    return Verdict(
        "stock_within_limit",
        above_rows == 0,
        f"{above_rows} rows above {limit:,} units (MAX_STOCK_VALUE)",
        {"rows_above": above_rows},
    )


def no_duplicate_keys(duplicate_keys: int, shared_skus: list[str] | None = None) -> Verdict:
    """No ledger key twice in one snapshot, and no SKU that two WB sizes share: one row would win
    and the other's stock would be lost, so such a snapshot is rejected, never applied."""
    shared_skus = shared_skus or []
    meta = {"duplicate_keys": duplicate_keys, "shared_skus": len(shared_skus)}
    if not duplicate_keys and not shared_skus:
        return Verdict("no_duplicate_keys", True, "every (SKU, warehouse, type) key appears once", meta)
    findings = []
    if duplicate_keys:
        findings.append(f"{duplicate_keys} (SKU, warehouse, type) keys appear more than once")
    if shared_skus:
        findings.append(
            "several WB sizes make one seller SKU ("
            + "; ".join(shared_skus)
            + "): give each size its own SKU in WB_SKU_MAP_FILE or change WB_SKU_RULE"
        )
    return Verdict("no_duplicate_keys", False, "; ".join(findings) + ". Nothing was written.", meta)


def at_least(name: str, value: float, minimum: float) -> Verdict:
    return Verdict(
        name,
        value >= minimum,
        f"{name.replace('_', ' ')} {value:.1%}, at least {minimum:.0%} required",
        {name: round(value, 4)},
    )


def below(name: str, value: float, limit: float) -> Verdict:
    return Verdict(
        name,
        value < limit,
        f"{name.replace('_', ' ')} {value:.1%}, must stay under {limit:.0%}",
        {name: round(value, 4)},
    )
