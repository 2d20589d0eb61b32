"""What a stock read returns: the raw pages of an API's answer, as the API sent them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, BinaryIO

import ijson

from inventory_pipeline.resources.http import ApiPayloadError


@dataclass(frozen=True)
class RawPage:
    """One answer of a paged read. ``part`` says which endpoint it came from (WB reads several)."""

    part: str
    body: bytes
    payload: Any
    file: BinaryIO | None = None  # the body, when it was too large to hold: read from here instead


def json_array_batches(body: bytes | BinaryIO, what: str, size: int = 5000) -> Iterator[list]:
    """The items of a JSON array, ``size`` at a time, parsed as they are read: a report of every size
    of a catalogue is never held parsed whole."""
    items = ijson.items(io.BytesIO(body) if isinstance(body, bytes) else body, "item", use_float=True)
    try:
        while batch := list(islice(items, size)):
            yield batch
    except ijson.JSONError as exc:
        raise ApiPayloadError(f"{what} is not a readable JSON array: {exc}") from None
