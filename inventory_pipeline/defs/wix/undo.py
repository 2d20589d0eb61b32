"""What undoing one push may write back to Wix, given what Wix holds now. Pure.

A push changed a variant from ``before`` to ``target``; since then buyers may have bought some and
other pushes may have written it again. Undoing therefore takes the push's own change back from what
Wix shows now (``now − (target − before)``, never below 0), so sales made since stay counted, and it
leaves a variant alone when undoing could only be a guess: written again by a later push, gone from
Wix, or a write that may never have landed (``pending``) while Wix shows neither of its figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory_pipeline.defs.wix.plan import PlanItem, WixItem


@dataclass(frozen=True)
class Pushed:
    """One logged write of the push to undo (``wix_push_log``)."""

    sku: str
    before: int
    target: int
    status: str  # applied, or pending: written or not when the run died


@dataclass(frozen=True)
class LeftAlone:
    sku: str
    wix_now: int | None
    why: str


def undo_plan(
    pushed: list[Pushed], current: dict[str, WixItem], rewritten: set[str]
) -> tuple[list[PlanItem], list[LeftAlone]]:
    """The writes that undo ``pushed`` (SKUs ``rewritten`` by a later push are not touched), and every
    SKU left alone with why."""
    undo: list[PlanItem] = []
    alone: list[LeftAlone] = []
    for row in pushed:
        item = current.get(row.sku)
        now = item.quantity if item else None
        if row.sku in rewritten:
            alone.append(LeftAlone(row.sku, now, "written again by a later push: undoing this one would undo that"))
            continue
        if item is None:
            alone.append(LeftAlone(row.sku, None, "no longer in Wix"))
            continue
        if row.status == "pending" and now != row.target:
            why = (
                "the write never landed: Wix still shows what it showed before"
                if now == row.before
                else f"the write may not have landed and Wix has changed since ({row.before} → {row.target} "
                f"planned, {now} now): left for a person to decide"
            )
            alone.append(LeftAlone(row.sku, now, why))
            continue
        restored = now - (row.target - row.before)
        if restored < 0:
            alone.append(LeftAlone(row.sku, now, f"sold {-restored} more than the push added: set to 0"))
        if max(0, restored) != now:
            undo.append(PlanItem(item, max(0, restored)))
    return undo, alone
