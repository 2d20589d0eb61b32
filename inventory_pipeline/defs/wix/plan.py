"""What Wix should show, and what must change to get there. Pure functions over the ledger.

Wix buyers are served from the seller's own warehouses, so the target counts available stock
(present − reserved, an oversold row as nothing) of the configured stock types (FBS and rFBS by
default, never a marketplace's own FBO/FBW warehouse unless configured). A reporter (one source's
seller account) adds up all its rows in a place: Ozon's FBS and rFBS rows of one warehouse, two WB
warehouses ``WIX_WAREHOUSE_MAP`` puts in one city. Reporters that the map puts in one place describe
the same shelf: of those, the largest figure is taken. Places add up. Then a safety buffer is taken
off (``max(0, qty − buffer)``) and an optional cap applied. A SKU with nothing left is pushed as 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from inventory_pipeline.checks import Verdict


@dataclass(frozen=True)
class WixItem:
    """One sellable variant as Wix holds it."""

    sku: str
    product_id: str
    variant_id: str
    inventory_item_id: str  # V1: the product's inventory item; V3: the variant's inventory item
    quantity: int
    revision: str | None = None


@dataclass(frozen=True)
class TargetRules:
    stock_types: tuple[str, ...] = ("fbs", "rfbs")
    warehouse_map: dict[str, str] = field(default_factory=dict)  # "ozon:22142605386000" -> "moscow"
    buffer: int = 0
    sku_buffers: dict[str, int] = field(default_factory=dict)
    cap: int | None = None


def targets(ledger: pd.DataFrame, rules: TargetRules) -> dict[str, int]:
    """Target quantity per seller SKU from ledger rows (source, account, sku, warehouse_id,
    stock_type, available_stock). Every SKU the ledger knows gets a target, zero included."""
    if ledger.empty:
        return {}
    own = ledger[ledger["stock_type"].isin(rules.stock_types)].copy()
    own["where"] = own["source"] + ":" + own["warehouse_id"].astype(str)
    own["place"] = own["where"].map(rules.warehouse_map).fillna(own["where"] + ":" + own["account"])
    own["units"] = own["available_stock"].clip(lower=0)
    per_reporter = own.groupby(["sku", "place", "source", "account"], sort=False)["units"].sum()
    per_place = per_reporter.groupby(level=["sku", "place"], sort=False).max()
    total = per_place.groupby(level="sku").sum().reindex(ledger["sku"].unique(), fill_value=0)
    buffers = total.index.map(lambda sku: rules.sku_buffers.get(sku, rules.buffer))
    result = (total - buffers).clip(lower=0)
    if rules.cap is not None:
        result = result.clip(upper=rules.cap)
    return {sku: int(qty) for sku, qty in result.items()}


@dataclass
class PlanItem:
    item: WixItem
    target: int

    @property
    def delta(self) -> int:
        return self.target - self.item.quantity


@dataclass
class Plan:
    items: list[PlanItem]  # every SKU found in Wix, changed or not
    not_found: list[str]  # in the ledger, not in Wix
    unknown: list[str]  # in Wix, unknown to the ledger: reported, never touched
    duplicates: list[str]  # SKUs Wix holds on more than one variant: ambiguous, not touched

    @property
    def changes(self) -> list[PlanItem]:
        return [p for p in self.items if p.delta != 0]


def plan(wanted: dict[str, int], wix_items: Iterable[WixItem]) -> Plan:
    by_sku: dict[str, list[WixItem]] = {}
    for item in wix_items:
        by_sku.setdefault(item.sku, []).append(item)
    duplicates = sorted(s for s, found in by_sku.items() if len(found) > 1 and s in wanted)
    items = [PlanItem(found[0], wanted[sku]) for sku, found in by_sku.items() if sku in wanted and len(found) == 1]
    return Plan(
        items=sorted(items, key=lambda p: p.item.sku),
        not_found=sorted(s for s in wanted if s not in by_sku),
        unknown=sorted(s for s in by_sku if s not in wanted),
        duplicates=duplicates,
    )


def guard(planned: Plan, max_zero_share: float, max_total_change: float) -> Verdict:
    """Refuse a push that empties too many SKUs or moves total stock too far: that is what a broken
    ledger looks like, not what a day of trading looks like."""
    found = planned.items
    zeroed = sum(1 for p in found if p.item.quantity > 0 and p.target == 0)
    before = sum(p.item.quantity for p in found)
    after = sum(p.target for p in found)
    return guard_totals(len(found), zeroed, before, after, max_zero_share, max_total_change)


def guard_totals(
    found: int, zeroed: int, before: int, after: int, max_zero_share: float, max_total_change: float
) -> Verdict:
    """The guard over a plan's totals: ``found`` SKUs in Wix, ``zeroed`` of them going to zero, total
    quantity ``before`` → ``after``."""
    zero_share = zeroed / found if found else 0.0
    moved = abs(after - before) / before if before else 0.0
    meta = {
        "skus_set_to_zero": zeroed,
        "zero_share": round(zero_share, 4),
        "total_before": before,
        "total_after": after,
        "total_change": round(moved, 4),
    }
    problems = []
    if zero_share > max_zero_share:
        problems.append(
            f"{zeroed} of {found} SKUs ({zero_share:.0%}) would go to zero, more than "
            f"WIX_MAX_ZERO_SHARE={max_zero_share:.0%}"
        )
    if moved > max_total_change:
        problems.append(
            f"total quantity would move {before} → {after} ({moved:.0%}), more than "
            f"WIX_MAX_TOTAL_CHANGE={max_total_change:.0%}"
        )
    if problems:
        return Verdict(
            "push_within_limits",
            False,
            "; ".join(problems) + ". Nothing was written. If this is "
            "intended, run the push with run config confirm_large_change: true.",
            meta,
        )
    return Verdict("push_within_limits", True, f"{zeroed} SKUs to zero, total {before} → {after}", meta)
