"""What a stock read returns: the raw pages of an API's answer, as the API sent them."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, BinaryIO, TypeVar

import ijson

from inventory_pipeline.resources.http import ApiPayloadError


@dataclass(frozen=True)
class RawPage:
    """One answer of a paged read. ``part`` says which endpoint it came from (WB reads several)."""

    part: str
    body: bytes
    payload: Any
    file: BinaryIO | None = None  # the body, when it was too large to hold: read from here instead


def json_array_batches(body: bytes | BinaryIO, what: str, size: int = 1000) -> Iterator[list]:
    """The items of a JSON array, ``size`` at a time, parsed as they are read: a report of every size
    of a catalogue is never held parsed whole."""
    items = ijson.items(io.BytesIO(body) if isinstance(body, bytes) else body, "item", use_float=True)
    try:
        while batch := list(islice(items, size)):
            yield batch
    except ijson.JSONError as exc:
        raise ApiPayloadError(f"{what} is not a readable JSON array: {exc}") from None


def unseen(seen: set, cursor: object, what: str) -> None:
    """A paged read whose server hands back a cursor it gave before would page forever: refused,
    naming the read (``seen``: the cursors of this read so far)."""
    if cursor in seen:
        raise ApiPayloadError(
            f"{what} returned the cursor {cursor!r:.80} a second time: stopped rather than page forever"
        )
    seen.add(cursor)


T = TypeVar("T")
_END = object()


def read_ahead(pages: Iterable[T]) -> Iterator[T]:
    """``pages`` read one ahead in a thread of their own: the next page is on the wire while this one
    is normalized and stored. Same pages, same order, same calls; an error is raised where the
    reading met it. A consumer that stops early stops the reading after its current call."""
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def put(item: object) -> bool:
        while not stopped.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not put((page, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((_END, exc))

    reader = threading.Thread(target=read, name="read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            page, error = handoff.get()
            if page is _END:
                if error is not None:
                    raise error
                return
            yield page
    finally:
        stopped.set()
        reader.join()
