"""Writing a plan to Wix so that a retry can never apply a change twice.

V1 sites take deltas (increment/decrement, 300 variants a call): each batch re-reads the current
quantities right before it writes, and after a failed write the next attempt re-reads again, so a
write that Wix applied before failing shows up as already done. V3 sites take absolute quantities
with the item's ``revision``: a stale revision (409 or 428) means re-read and plan the batch again,
and an item Wix answers as not written (inside its 200) is failed, never logged applied.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from inventory_pipeline.defs.wix.plan import PlanItem, WixItem
from inventory_pipeline.resources.http import ApiUnavailableError
from inventory_pipeline.resources.wix import BULK_BATCH, DELTA_BATCH, StaleRevisionError, WixStoresResource

ATTEMPTS = 3


@dataclass
class Written:
    item: WixItem  # as read right before the write
    target: int
    status: str  # applied, failed
    error: str | None = None

    @property
    def delta(self) -> int:
        return self.target - self.item.quantity


@dataclass
class PushOutcome:
    written: list[Written] = field(default_factory=list)
    replans: int = 0

    @property
    def applied(self) -> list[Written]:
        return [w for w in self.written if w.status == "applied"]

    @property
    def failed(self) -> list[Written]:
        return [w for w in self.written if w.status == "failed"]


class Journal(Protocol):
    """Where each batch is recorded before its write and settled after it, so that a push killed
    mid-way leaves an audit trail that a rollback can use."""

    def intend(self, batch: list[tuple[WixItem, int]]) -> None: ...

    def settle(self, written: list[Written]) -> None: ...

    def exclusive(self) -> AbstractContextManager: ...


def push(wix: WixStoresResource, version: str, changes: list[PlanItem], journal: Journal) -> PushOutcome:
    outcome = PushOutcome()
    size = DELTA_BATCH if version == "V1_CATALOG" else BULK_BATCH
    for start in range(0, len(changes), size):
        settled = len(outcome.written)
        # One writer of the store at a time, from reading a batch to its write: two pushes adding the
        # same V1 delta to what each read would apply it twice.
        with journal.exclusive():
            _push_batch(wix, version, changes[start : start + size], outcome, journal)
        journal.settle(outcome.written[settled:])
    return outcome


def _push_batch(
    wix: WixStoresResource, version: str, batch: list[PlanItem], outcome: PushOutcome, journal: Journal
) -> None:
    targets = {p.item.sku: p.target for p in batch}
    first_seen: dict[str, WixItem] = {}
    current = {p.item.sku: p.item for p in batch}
    must_read = version == "V1_CATALOG"  # V3 writes carry the plan's revision: Wix itself refuses stale ones
    error: str | None = None
    refused: dict[str, str] = {}  # V3 items Wix answered as not written, inside its 200
    intended = False
    for _ in range(ATTEMPTS):
        if must_read:
            current = wix.reread(version, list(current.values()))
        for sku, item in current.items():
            first_seen.setdefault(sku, item)
        todo = [(item, targets[sku]) for sku, item in current.items() if item.quantity != targets[sku]]
        if not todo:
            error, refused = None, {}
            break
        if not intended:
            journal.intend(todo)
            intended = True
        try:
            if version == "V1_CATALOG":
                wix.change_by([(item, target - item.quantity) for item, target in todo])
            else:
                refused = wix.set_v3(todo)
            error = None
            if not refused:
                break
            # Wix wrote the rest: read again, and write only what it refused (with its unchanged revision).
        except StaleRevisionError as exc:
            outcome.replans += 1
            error = str(exc)
        except ApiUnavailableError as exc:
            error = str(exc)
            if "no answer within" in error:
                # A write that timed out may still be in flight: let it land before reading again.
                time.sleep(wix.timeout_seconds)
        must_read = True
    if error:
        # Part of a failed batch may have landed: ask Wix what each item holds now.
        try:
            current = wix.reread(version, list(current.values()))
        except ApiUnavailableError:
            current = {}
    for sku, target in targets.items():
        before = first_seen.get(sku)
        if before is None:
            continue
        if sku in refused:
            outcome.written.append(Written(before, target, "failed", f"Wix did not write it: {refused[sku]}"))
        elif sku not in current:
            outcome.written.append(Written(before, target, "failed", error or "the variant is no longer in Wix"))
        elif error and current[sku].quantity != target:
            outcome.written.append(Written(before, target, "failed", error))
        else:
            outcome.written.append(Written(before, target, "applied"))


def verify(wix: WixStoresResource, version: str, written: list[Written]) -> list[str]:
    """Read back what was written; the SKUs whose quantity is not the target."""
    if not written:
        return []
    now = wix.reread(version, [w.item for w in written])
    return sorted(w.item.sku for w in written if w.item.sku not in now or now[w.item.sku].quantity != w.target)
