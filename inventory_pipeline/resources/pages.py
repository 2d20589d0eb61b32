"""What a stock read returns: the raw pages of an API's answer, as the API sent them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawPage:
    """One answer of a paged read. ``part`` says which endpoint it came from (WB reads several)."""

    part: str
    body: bytes
    payload: Any


class IncompleteSnapshotError(Exception):
    """Paging ended before the API's own count said it would."""
