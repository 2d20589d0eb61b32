"""Wildberries' cards as the stock rows need them: each size (chrtID) → its seller SKU and its card
(nmID), found by its size id or by its card and ``techSize`` (how the warehouse-remains report names
a size). Pure; no I/O.

A card has one or more sizes and every size is its own ledger row: its seller SKU comes from
``wb_sku.WbSkuRule``. Held in flat arrays and one text buffer, about 40 bytes a size, rather than in
dicts of Python objects (about 300): at a million sizes that is the difference between ~40 MB and
~300 MB. Lookups go a page at a time (``sizes``, ``by_card_size``), so the arrays are searched once
per page, not per row.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import xxhash

from inventory_pipeline.defs.stock.wb_sku import WbSkuRule

ABSENT = -1
INT64_MAX = 2**63 - 1


class WbSize(NamedTuple):
    sku: str  # the seller SKU (wb_sku's rule)
    nm_id: int


def wb_id(value: object) -> int | None:
    """A WB id (chrtID, nmID): a whole number ≥ 0 that fits the arrays, else None."""
    if type(value) is int and 0 <= value <= INT64_MAX:  # what the API sends; the rest is the odd case
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) <= INT64_MAX else None


def card_size_key(nm_id: object, tech_size: object) -> int | None:
    """One 63-bit number for (card, techSize): how the remains report names a size."""
    nm = wb_id(nm_id)
    if nm is None or tech_size is None:
        return None
    return xxhash.xxh3_64_intdigest(f"{nm}\x1f{tech_size}".encode()) >> 1


def _sku_key(sku: str) -> int:
    return xxhash.xxh3_64_intdigest(sku.encode()) >> 1


def _last_of_each(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and, for each, the position of its last occurrence (a later page wins,
    as a dict update would)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    last = np.ones(len(ordered), dtype=bool)
    last[:-1] = ordered[1:] != ordered[:-1]
    return ordered[last], order[last]


def _find(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each wanted key, its index in the sorted ``keys``, or -1."""
    if not len(keys):
        return np.full(len(wanted), ABSENT, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, at, ABSENT)


class WbCards:
    """Built page by page with ``add``; searched with ``sizes`` and ``by_card_size``."""

    def __init__(self, rule: WbSkuRule | None = None) -> None:
        self.rule = rule or WbSkuRule()
        # Each size's SKU, UTF-8, end to end: one buffer, not a string object per size.
        self._skus = bytearray()
        self._sku_end = array("q")
        self._sku_keys = array("q")
        self._nm_ids = array("q")
        self._size_ids = array("q")
        self._card_sizes = array("q")
        self._index: tuple[np.ndarray, ...] | None = None

    @classmethod
    def of(cls, cards: Iterable[object], rule: WbSkuRule | None = None) -> WbCards:
        built = cls(rule)
        built.add(cards)
        return built

    def add(self, cards: Iterable[object]) -> list[str]:
        """One page of ``/content/v2/get/cards/list``; returns what could not be read."""
        skipped: list[str] = []
        self._index = None
        for card in cards:
            article = card.get("vendorCode") if isinstance(card, dict) else None
            if not isinstance(article, str) or not article.strip():
                skipped.append(f"wb card {card.get('nmID') if isinstance(card, dict) else '?'}: no vendorCode")
                continue
            nm_id = wb_id(card.get("nmID"))
            for size in card.get("sizes") or []:
                size_id = wb_id(size.get("chrtID")) if isinstance(size, dict) else None
                if size_id is None or nm_id is None:
                    skipped.append(f"wb card {card.get('nmID')}: size without chrtID or card without nmID")
                    continue
                barcodes = size.get("skus") if isinstance(size.get("skus"), list) else []
                sku = self.rule.sku(article, size.get("techSize"), barcodes)
                if sku is None:
                    skipped.append(f"wb card {nm_id} size {size_id}: no barcode to name it by (WB_SKU_RULE=barcode)")
                    continue
                self._skus += sku.encode()
                self._sku_end.append(len(self._skus))
                self._sku_keys.append(_sku_key(sku))
                self._nm_ids.append(nm_id)
                self._size_ids.append(size_id)
                self._card_sizes.append(card_size_key(nm_id, size.get("techSize")) or ABSENT)
        return skipped

    def _search(self) -> tuple[np.ndarray, ...]:
        if self._index is None:
            size_ids, size_at = _last_of_each(np.array(self._size_ids, dtype=np.int64))
            card_sizes, card_at = _last_of_each(np.array(self._card_sizes, dtype=np.int64))
            self._index = (size_ids, size_at, card_sizes, card_at)
        return self._index

    def __len__(self) -> int:
        return len(self._search()[0])

    def chrt_ids(self) -> np.ndarray:
        """Every size id, sorted, once."""
        return self._search()[0]

    def _size(self, added_at: int) -> WbSize:
        start = self._sku_end[added_at - 1] if added_at else 0
        return WbSize(self._skus[start : self._sku_end[added_at]].decode(), self._nm_ids[added_at])

    def sizes(self, size_ids: Sequence[object]) -> list[WbSize | None]:
        """Each size id's SKU and nmID, None for an unknown or unreadable id."""
        keys, added_at, _, _ = self._search()
        wanted = np.array([ABSENT if (s := wb_id(v)) is None else s for v in size_ids], dtype=np.int64)
        return [None if at == ABSENT else self._size(int(added_at[at])) for at in _find(keys, wanted).tolist()]

    def by_card_size(self, nm_ids: Sequence[object], tech_sizes: Sequence[object]) -> list[tuple[int, WbSize] | None]:
        """Each (nmID, techSize)'s (size id, its SKU and nmID), None for a size no card lists."""
        _, _, keys, added_at = self._search()
        wanted = np.array(
            [ABSENT if (k := card_size_key(n, t)) is None else k for n, t in zip(nm_ids, tech_sizes, strict=True)],
            dtype=np.int64,
        )
        out: list[tuple[int, WbSize] | None] = []
        for at in _find(keys, wanted).tolist():
            added = None if at == ABSENT else int(added_at[at])
            out.append(None if added is None else (self._size_ids[added], self._size(added)))
        return out

    def shared_skus(self, limit: int = 5) -> tuple[int, list[str]]:
        """SKUs that more than one size makes (the rule or the mapping file gave two sizes one name):
        how many, and the first few with their sizes. Each would be two ledger rows with one key."""
        size_ids, size_at = self._search()[:2]
        keys = np.array(self._sku_keys, dtype=np.int64)[size_at]  # one entry per distinct size
        values, counts = np.unique(keys, return_counts=True)
        shared = set(values[counts > 1].tolist())
        if not shared:
            return 0, []
        named: dict[str, list[int]] = {}
        for size_id, at in zip(size_ids.tolist(), size_at.tolist(), strict=True):
            if self._sku_keys[at] in shared:
                sku = self._size(at).sku
                if sku in named or len(named) < limit:
                    named.setdefault(sku, []).append(size_id)
        return len(shared), [f"{sku!r} ← sizes {', '.join(map(str, ids))}" for sku, ids in named.items()]
