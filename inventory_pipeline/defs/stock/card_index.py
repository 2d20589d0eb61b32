"""The Wildberries card listing kept from one sync to the next. Pure; no I/O.

Listing every card costs one call per 100 cards at 100 calls a minute (ten minutes at 100,000
cards), while the cards themselves rarely change. WB lists cards in ``updatedAt`` order, so a sync
lists only the cards edited or created since the newest one it knows and carries the rest over from
the last accepted snapshot, which holds the complete listing it was built from (so each snapshot
still holds every card it used). A card listed again replaces its old version, and so does a new
card naming a size the way a carried one did (a card trashed and created again under its article).
The weekly full resync lists everything again, which is also what drops cards WB no longer lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from inventory_pipeline.defs.stock.wb_cards import wb_id
from inventory_pipeline.defs.stock.wb_sku import WbSkuRule


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


def _card_id(card: object) -> int | None:
    return wb_id(card.get("nmID")) if isinstance(card, dict) else None


def listed_ids(cards: Iterable[object]) -> set[int]:
    """The nmIDs of a page's cards, read as the card index reads them."""
    return {n for n in map(_card_id, cards) if n is not None}


def size_skus(cards: Iterable[object], rule: WbSkuRule) -> set[str]:
    """The seller SKUs the rule gives the sizes of ``cards``."""
    found: set[str] = set()
    for card in cards:
        if not isinstance(card, dict) or not isinstance(card.get("vendorCode"), str):
            continue
        for size in card.get("sizes") or []:
            if isinstance(size, dict):
                barcodes = size.get("skus") if isinstance(size.get("skus"), list) else []
                sku = rule.sku(card["vendorCode"], size.get("techSize"), barcodes)
                if sku is not None:
                    found.add(sku)
    return found


def carried_over(page: dict, listed_again: set[int], skus_listed: set[str], rule: WbSkuRule) -> list[object]:
    """A stored page's cards that no new listing replaces: not listed again (an edited card's new
    version counts), and naming none of the SKUs a listed card names (the card that took its place)."""
    return [
        c
        for c in page.get("cards") or []
        if _card_id(c) not in listed_again and not (skus_listed and size_skus([c], rule) & skus_listed)
    ]
