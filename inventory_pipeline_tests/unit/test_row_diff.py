"""The snapshot-to-snapshot row diff, by the hashes stored with a snapshot's rows."""

from __future__ import annotations

import numpy as np
import pytest

from inventory_pipeline.defs.stock import row_diff
from inventory_pipeline.defs.stock.ledger import rows_from_tsv, rows_to_tsv
from inventory_pipeline.defs.stock.row_diff import NotComparable, diff
from inventory_pipeline_tests.support.rows import stock, stored


def chunks(*rows: dict, size: int = 2) -> list[list[dict]]:
    return [list(rows[i : i + size]) for i in range(0, len(rows), size)]


def key(sku: str, warehouse: str = "1") -> tuple[str, ...]:
    return ("wb", "main", sku, warehouse, "fbs")


def line(row: dict) -> bytes:
    return rows_to_tsv([row]).rstrip(b"\n")


def test_nothing_changed_means_nothing_to_write():
    before = stored(*chunks(stock("A", 1), stock("B", 2), stock("C", 3)))
    result = diff(stored(*chunks(stock("C", 3), stock("A", 1), stock("B", 2), size=1)), before)
    assert (result.changed, result.vanished, result.rows, result.duplicate_keys) == ([], [], 3, 0)


def test_changed_new_and_gone_rows():
    before = stored(*chunks(stock("A", 1), stock("B", 2), stock("C", 3), stock("D", 4, warehouse="2")))
    after = stored(*chunks(stock("A", 1), stock("B", 5), stock("E", 1), stock("D", 4, warehouse="3")))
    result = diff(after, before)
    assert result.changed == [line(r) for r in (stock("B", 5), stock("E", 1), stock("D", 4, warehouse="3"))]
    assert sorted(result.vanished) == [key("C"), key("D", "2")]  # B changed, it did not vanish
    assert result.duplicate_keys == 0


def test_only_the_chunks_holding_changes_are_read():
    rows = [stock(f"S{n}", n) for n in range(12)]
    read: list[int] = []
    after = stored(*chunks(*rows[:5], stock("S5", 99), *rows[6:], size=3))
    spy = row_diff.Stored(after.rows, after.hashes, lambda nos: read.extend(nos) or after.chunks(nos))
    assert diff(spy, stored(*chunks(*rows, size=4))).changed == [line(stock("S5", 99))]
    assert read == [1]


def test_hostile_keys_are_read_exactly():
    odd = 'a "quoted"\tSKU'
    result = diff(stored([stock("A", 1)]), stored(*chunks(stock("A", 1), stock(odd, 2), stock("NULL", 3))))
    assert sorted(result.vanished) == [key("NULL"), key(odd)]


def test_a_key_is_hashed_alike_from_the_row_and_from_its_stored_line():
    rows = [stock('a "quoted"\tSKU', 1), stock("1:2", 3, warehouse="4"), stock("12", 3, warehouse=":4"), stock("Ё", 0)]
    again = rows_from_tsv(rows_to_tsv(rows))
    assert np.array_equal(row_diff.key_hashes(rows), row_diff.key_hashes(again))
    assert len(set(row_diff.key_hashes(rows).tolist())) == 4  # "1:2"+"4" is not "12"+":4"


def test_a_first_snapshot_and_duplicates():
    result = diff(stored(*chunks(stock("A", 1), stock("A", 2))), stored())
    assert len(result.changed) == 2 and result.duplicate_keys == 1 and result.vanished == []
    assert diff(stored(), stored(*chunks(stock("A", 1)))).vanished == [key("A")]
    # A key held twice is counted in every snapshot that holds it, changed or not.
    twice = stored(*chunks(stock("A", 1), stock("A", 2), stock("B", 1)))
    assert diff(twice, twice).duplicate_keys == 1


def test_hashes_that_do_not_match_the_snapshot_are_not_compared():
    whole = stored(*chunks(stock("A", 1), stock("B", 2)))
    short = row_diff.Stored(3, whole.hashes, whole.chunks)
    with pytest.raises(NotComparable, match="do not hold the snapshot's 3 rows"):
        diff(whole, short)
    with pytest.raises(NotComparable):
        diff(row_diff.Stored(1, whole.hashes, whole.chunks), whole)


@pytest.mark.parametrize("missing", [0, 1, 7, 5000])
def test_absent_finds_exactly_the_values_not_known(missing):
    rng = np.random.default_rng(missing)
    known = rng.integers(0, 2**64 - 1, 20_000, dtype=np.uint64)
    values = rng.permutation(known)[:15_000]
    values[rng.choice(len(values), missing, replace=False)] = rng.integers(0, 2**64 - 1, missing, dtype=np.uint64)
    expected = np.flatnonzero(~np.isin(values, known))
    assert np.array_equal(row_diff._absent(values, np.sort(known)), expected)
