"""What changed between two snapshots' stored rows (TSV lines as ``ledger.rows_to_tsv`` writes them),
without holding either snapshot parsed: each line is reduced to a 64-bit hash, and only the few lines
that differ are parsed. Pure: no I/O.

A line of the new snapshot whose hash the previous one lacks is new or changed. A line of the previous
snapshot whose hash the new one lacks is changed or gone; it is gone when its key is not among the new
lines' keys. Two different lines share a 64-bit hash with a chance of about n²/2⁶⁵ (10⁻⁸ at 570,000
rows); the weekly full resync compares every row regardless.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

KEY_FIELDS = 5  # source, account, sku, warehouse_id, stock_type: the first columns of a stored row


@dataclass
class RowDiff:
    changed: list[bytes] = field(default_factory=list)  # lines of the new snapshot, new or different
    vanished: list[tuple[str, ...]] = field(default_factory=list)  # keys the new snapshot no longer has
    rows: int = 0  # lines in the new snapshot
    duplicate_keys: int = 0  # among the changed lines


def _lines(chunk: bytes) -> list[bytes]:
    return chunk.split(b"\n")[:-1] if chunk else []


def _hashes(lines: list[bytes]) -> np.ndarray:
    return np.fromiter(map(hash, lines), dtype=np.int64, count=len(lines))


def _missing(hashes: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Positions of ``hashes`` not in the sorted array ``known``."""
    if not len(known):
        return np.arange(len(hashes))
    at = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
    return np.flatnonzero(known[at] != hashes)


def _keys(lines: list[bytes]) -> list[tuple[str, ...]]:
    text = io.StringIO(b"\n".join(lines).decode())
    return [tuple(f[:KEY_FIELDS]) for f in csv.reader(text, delimiter="\t", quotechar='"')]


def diff(new: Iterable[bytes], previous: Callable[[], Iterable[bytes]]) -> RowDiff:
    """``new`` and ``previous()`` yield TSV chunks; ``previous`` is read twice, a chunk at a time."""
    before = np.sort(np.concatenate([_hashes(_lines(c)) for c in previous()] or [np.empty(0, np.int64)]))
    out = RowDiff()
    seen = []
    for chunk in new:
        lines = _lines(chunk)
        hashes = _hashes(lines)
        out.rows += len(lines)
        out.changed += [lines[i] for i in _missing(hashes, before)]
        seen.append(hashes)
    del before
    after = np.sort(np.concatenate(seen or [np.empty(0, np.int64)]))
    del seen
    left = []
    for chunk in previous():
        lines = _lines(chunk)
        left += [lines[i] for i in _missing(_hashes(lines), after)]
    changed_keys = _keys(out.changed)
    kept = set(changed_keys)
    out.vanished = [key for key in _keys(left) if key not in kept]
    out.duplicate_keys = len(changed_keys) - len(kept)
    return out
