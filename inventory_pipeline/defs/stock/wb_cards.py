"""Wildberries' cards as the stock rows need them: a size (chrtID) → its seller article and nmID,
and a barcode → its size. Pure; no I/O.

Held in flat arrays and one text buffer, about 40 bytes a size, rather than in dicts of Python
objects (about 300): at a million sizes that is the difference between ~40 MB and ~300 MB. Lookups go a
page at a time (``sizes``, ``by_barcodes``), so the arrays are searched once per page, not per row.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

ABSENT = -1
# A numeric barcode is stored as a number that keeps its length ("0123" is not "123"); longer or
# other barcodes go to a dict.
NUMERIC_BARCODE_DIGITS = 17
INT64_MAX = 2**63 - 1


class WbSize(NamedTuple):
    vendor_code: str
    nm_id: int


def _size_id(value: object) -> int | None:
    """A WB id (chrtID, nmID): a whole number ≥ 0 that fits the arrays, else None."""
    if type(value) is int and 0 <= value <= INT64_MAX:  # what the API sends; the rest is the odd case
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) <= INT64_MAX else None


def _barcode_key(barcode: str) -> int | None:
    if barcode.isascii() and barcode.isdigit() and len(barcode) <= NUMERIC_BARCODE_DIGITS:
        return int(barcode) * 32 + len(barcode)
    return None


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
    """Built page by page with ``add``; searched with ``sizes`` and ``by_barcodes``."""

    def __init__(self) -> None:
        # Each card's article, UTF-8, end to end: one buffer, not a string object per card.
        self._articles = bytearray()
        self._article_end = array("q")
        self._nm_ids = array("q")
        self._size_ids = array("q")
        self._size_card = array("q")
        self._barcodes = array("q")
        self._barcode_size = array("q")  # index into the sizes as added
        self._odd_barcodes: dict[str, int] = {}
        self._index: tuple[np.ndarray, ...] | None = None

    @classmethod
    def of(cls, cards: Iterable[object]) -> WbCards:
        built = cls()
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
            card_at = len(self._article_end)
            self._articles += article.encode()  # exact: "ABC " and "ABC" are two articles
            self._article_end.append(len(self._articles))
            self._nm_ids.append(_size_id(card.get("nmID")) or 0)
            for size in card.get("sizes") or []:
                size_id = _size_id(size.get("chrtID")) if isinstance(size, dict) else None
                if size_id is None:
                    skipped.append(f"wb card {card.get('nmID')}: size without chrtID")
                    continue
                size_at = len(self._size_ids)
                self._size_ids.append(size_id)
                self._size_card.append(card_at)
                for barcode in size.get("skus") or []:
                    key = _barcode_key(str(barcode))
                    if key is None:
                        self._odd_barcodes[str(barcode)] = size_at
                    else:
                        self._barcodes.append(key)
                        self._barcode_size.append(size_at)
        return skipped

    def _search(self) -> tuple[np.ndarray, ...]:
        if self._index is None:
            size_ids, size_at = _last_of_each(np.array(self._size_ids, dtype=np.int64))
            barcodes, barcode_at = _last_of_each(np.array(self._barcodes, dtype=np.int64))
            self._index = (size_ids, size_at, barcodes, np.array(self._barcode_size, dtype=np.int64)[barcode_at])
        return self._index

    def __len__(self) -> int:
        return len(self._search()[0])

    def chrt_ids(self) -> np.ndarray:
        """Every size id, sorted, once."""
        return self._search()[0]

    def _size(self, added_at: int) -> WbSize:
        card = self._size_card[added_at]
        start = self._article_end[card - 1] if card else 0
        return WbSize(self._articles[start : self._article_end[card]].decode(), self._nm_ids[card])

    def sizes(self, size_ids: Sequence[object]) -> list[WbSize | None]:
        """Each size id's article and nmID, None for an unknown or unreadable id."""
        keys, added_at, _, _ = self._search()
        wanted = np.array([ABSENT if (s := _size_id(v)) is None else s for v in size_ids], dtype=np.int64)
        found = _find(keys, wanted)
        return [None if at == ABSENT else self._size(int(added_at[at])) for at in found.tolist()]

    def by_barcodes(self, barcodes: Sequence[object]) -> list[tuple[int, WbSize] | None]:
        """Each barcode's (size id, its article and nmID), None for an unknown barcode."""
        _, _, keys, size_at = self._search()
        texts = [str(b) for b in barcodes]
        wanted = np.array([ABSENT if (k := _barcode_key(t)) is None else k for t in texts], dtype=np.int64)
        out: list[tuple[int, WbSize] | None] = []
        for text, at in zip(texts, _find(keys, wanted).tolist(), strict=True):
            added = int(size_at[at]) if at != ABSENT else self._odd_barcodes.get(text)
            out.append(None if added is None else (self._size_ids[added], self._size(added)))
        return out
