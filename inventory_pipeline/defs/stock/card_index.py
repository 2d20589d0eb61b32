"""The Wildberries card listing kept from one sync to the next. Pure; no I/O.

Listing every card costs one call per 100 cards at 100 calls a minute (ten minutes at 100,000
cards), while the cards themselves rarely change. WB lists cards in ``updatedAt`` order, so a sync
lists only the cards edited or created since the newest one it knows and carries the rest over from
the last accepted snapshot, which holds the complete listing it was built from (so each snapshot
still holds every card it used). A card listed again replaces its old version. The weekly full
resync lists everything again, which is also what drops cards WB no longer lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple


class Cursor(NamedTuple):
    """Where a listing goes on from: a card's ``updatedAt`` exactly as WB wrote it, and its nmID."""

    updated_at: str
    nm_id: int


def _when(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # WB writes UTC


def newest(cards: Iterable[object], than: Cursor | None = None) -> Cursor | None:
    """The latest edited card of ``cards`` (or ``than``, when none is later). A card whose
    ``updatedAt`` cannot be read takes no part: a listing after the newest readable one still
    re-lists it when it is edited again."""
    best, best_when = than, _when(than.updated_at) if than else None
    for card in cards:
        if not isinstance(card, dict) or type(card.get("nmID")) is not int:
            continue
        when = _when(card.get("updatedAt"))
        if when is None:
            continue
        if best_when is None or (when, card["nmID"]) > (best_when, best.nm_id):
            best, best_when = Cursor(card["updatedAt"], card["nmID"]), when
    return best


def listed_ids(cards: Iterable[object]) -> set[int]:
    """The nmIDs of a page's cards."""
    return {c["nmID"] for c in cards if isinstance(c, dict) and type(c.get("nmID")) is int}


def carried_over(page: dict, listed_again: set[int]) -> list[object]:
    """A stored page's cards that were not listed again (those were edited: their new version counts)."""
    return [c for c in page.get("cards") or [] if not (isinstance(c, dict) and c.get("nmID") in listed_again)]
