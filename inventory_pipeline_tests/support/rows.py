"""Ledger rows for tests, as the normalizers make them."""

from __future__ import annotations

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
