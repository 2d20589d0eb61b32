"""Ledger rows for tests, as the normalizers make them."""

from __future__ import annotations

from inventory_pipeline.defs.stock import row_diff
from inventory_pipeline.defs.stock.ledger import rows_to_tsv
from inventory_pipeline.defs.stock.normalize import row


def stock(sku: str, present: int, reserved: int = 0, warehouse: str = "1", name: str = "Склад") -> dict:
    """A WB seller-warehouse row of account ``main``."""
    return row(
        "wb",
        "main",
        sku,
        warehouse,
        "fbs",
        product_id="1",
        marketplace_sku="2",
        warehouse_name=name,
        present=present,
        reserved=reserved,
    )


def stored(*chunks: list[dict]) -> row_diff.Stored:
    """Rows as a snapshot stores them, held in memory: a TSV chunk each, with the hashes of its lines
    and keys."""
    texts = [rows_to_tsv(chunk) for chunk in chunks]
    hashes = [
        (n, row_diff.line_hashes(t), row_diff.key_hashes(c)) for n, (t, c) in enumerate(zip(texts, chunks, strict=True))
    ]
    return row_diff.Stored(
        sum(len(chunk) for chunk in chunks),
        lambda keys: [(n, lines, key_hashes if keys else None) for n, lines, key_hashes in hashes],
        lambda chunk_nos: [(n, texts[n]) for n in chunk_nos],
    )
