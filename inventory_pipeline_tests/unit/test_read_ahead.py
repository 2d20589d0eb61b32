"""Pages read one ahead in a thread: the same pages in the same order, an error where it happened,
and no reading past a consumer that stopped."""

from __future__ import annotations

import threading

import pytest

from inventory_pipeline.resources.pages import read_ahead


def test_the_same_pages_in_the_same_order():
    assert list(read_ahead(iter(range(1000)))) == list(range(1000))
    assert list(read_ahead([])) == []


def test_an_error_mid_paging_is_raised_after_the_pages_before_it():
    def pages():
        yield 1
        yield 2
        raise ConnectionError("HTTP 503 on page 3")

    got = []
    with pytest.raises(ConnectionError, match="page 3"):
        for page in read_ahead(pages()):
            got.append(page)
    assert got == [1, 2]


def test_a_consumer_that_stops_stops_the_reading():
    asked = []

    def pages():
        for n in range(100):
            asked.append(n)
            yield n

    reader = read_ahead(pages())
    assert [next(reader), next(reader)] == [0, 1]
    reader.close()
    # At most one page beyond the consumer's, and one more asked while the hand-off was full.
    assert len(asked) <= 4
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())


def test_reading_happens_beside_the_consumer():
    """While the consumer holds page n, page n + 1 is already being read."""
    second_read = threading.Event()

    def pages():
        yield 1
        second_read.set()
        yield 2

    reader = read_ahead(pages())
    assert next(reader) == 1
    assert second_read.wait(5)
    assert list(reader) == [2]
