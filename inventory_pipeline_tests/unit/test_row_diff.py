"""The snapshot-to-snapshot row diff, on stored rows as the snapshot step writes them."""

from __future__ import annotations

from inventory_pipeline.defs.stock.ledger import rows_to_tsv
from inventory_pipeline.defs.stock.row_diff import diff
from inventory_pipeline_tests.support.rows import stock


def chunks(*rows: dict, size: int = 2) -> list[bytes]:
    return [rows_to_tsv(list(rows[i : i + size])) for i in range(0, len(rows), size)]


def key(sku: str, warehouse: str = "1") -> tuple[str, ...]:
    return ("wb", "main", sku, warehouse, "fbs")


def test_nothing_changed_means_nothing_to_write():
    before = chunks(stock("A", 1), stock("B", 2), stock("C", 3))
    result = diff(chunks(stock("C", 3), stock("A", 1), stock("B", 2), size=1), lambda: before)
    assert (result.changed, result.vanished, result.rows) == ([], [], 3)


def test_changed_new_and_gone_rows():
    before = chunks(stock("A", 1), stock("B", 2), stock("C", 3), stock("D", 4, warehouse="2"))
    after = chunks(stock("A", 1), stock("B", 5), stock("E", 1), stock("D", 4, warehouse="3"))
    result = diff(after, lambda: before)
    assert result.changed == [
        rows_to_tsv([r]).rstrip(b"\n") for r in (stock("B", 5), stock("E", 1), stock("D", 4, warehouse="3"))
    ]
    assert sorted(result.vanished) == [key("C"), key("D", "2")]  # B changed, it did not vanish
    assert result.duplicate_keys == 0


def test_hostile_keys_are_read_exactly():
    odd = 'a "quoted"\tSKU'
    result = diff(chunks(stock("A", 1)), lambda: chunks(stock("A", 1), stock(odd, 2), stock("NULL", 3)))
    assert sorted(result.vanished) == [key("NULL"), key(odd)]


def test_a_first_snapshot_and_duplicates():
    result = diff(chunks(stock("A", 1), stock("A", 2)), lambda: [])
    assert len(result.changed) == 2 and result.duplicate_keys == 1 and result.vanished == []
    assert diff([], lambda: chunks(stock("A", 1))).vanished == [key("A")]
