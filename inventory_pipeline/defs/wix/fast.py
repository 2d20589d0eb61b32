"""The fast path's push: only the SKUs a signal changed, read from Wix and written there, with the
same targets, guard, journal and read-back as the hourly push. Which Wix variant holds a SKU comes
from the newest plan (the hourly push reads the whole catalogue); its quantities are read again now."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from inventory_pipeline.checks import Verdict
from inventory_pipeline.defs.wix import store
from inventory_pipeline.defs.wix.plan import PlanItem, TargetRules, guard_totals, targets
from inventory_pipeline.defs.wix.push import PushOutcome, push, verify
from inventory_pipeline.resources.wix import WixStoresResource


@dataclass
class FastPush:
    asked: int = 0
    not_in_wix: list[str] = field(default_factory=list)  # not in the newest plan: the hourly push's
    gone: list[str] = field(default_factory=list)  # in the plan, no longer in Wix when read again
    changes: list[PlanItem] = field(default_factory=list)
    outcome: PushOutcome = field(default_factory=PushOutcome)
    mismatched: list[str] = field(default_factory=list)
    verdict: Verdict | None = None
    skipped: str = ""  # why nothing was pushed at all
    calls: int = 0


def push_skus(
    engine: Engine,
    wix: WixStoresResource,
    rules: TargetRules,
    skus: set[str],
    run_id: str,
    max_zero_share: float,
    max_total_change: float,
) -> FastPush:
    result = FastPush(asked=len(skus))
    plan_id = store.plan_to_push(engine, run_id)
    if plan_id is None:
        result.skipped = "no Wix plan yet: the first hourly push reads the store"
        return result
    # Only the plan's items of these SKUs: a fast-path run reads what it pushes, not the store.
    header, items = store.load_plan(engine, plan_id, skus)
    by_sku = {p.item.sku: p for p in items}
    known = [by_sku[s].item for s in sorted(skus) if s in by_sku]
    result.not_in_wix = sorted(s for s in skus if s not in by_sku)
    wanted = targets(store.ledger_frame(engine, skus), rules)
    version = header["catalog_version"]
    fresh = wix.reread(version, known) if known else {}
    result.gone = sorted(i.sku for i in known if i.sku not in fresh)
    result.changes = [
        PlanItem(item, wanted[sku])
        for sku, item in sorted(fresh.items())
        if sku in wanted and wanted[sku] != item.quantity
    ]
    # Judged against the whole store, as the hourly push is, and together with every fast push since
    # the plan: many small pushes that each empty a few SKUs add up to what one large push would do.
    found, held = store.plan_totals(engine, plan_id)
    zeroed_since, moved_since = store.pushed_since(engine, header["created_at"], header["run_id"])
    zeroed = zeroed_since | {c.item.sku for c in result.changes if c.item.quantity > 0 and c.target == 0}
    after = held + moved_since + sum(c.delta for c in result.changes)
    result.verdict = guard_totals(found, len(zeroed), held, after, max_zero_share, max_total_change)
    if not result.verdict.passed or not result.changes:
        result.calls = wix.calls
        return result
    result.outcome = push(wix, version, result.changes, store.PushJournal(engine, run_id))
    result.mismatched = verify(wix, version, result.outcome.applied)
    result.calls = wix.calls
    return result
