"""Normalizers on recorded payloads, odd cases included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory_pipeline.defs.stock.ledger import rows_from_tsv, rows_to_tsv
from inventory_pipeline.defs.stock.normalize import (
    ozon_rows,
    row,
    rows_from_pages,
    unstorable,
    wb_remains_rows,
    wb_seller_rows,
    wb_warehouse_key,
    wb_warehouse_rows,
)
from inventory_pipeline.defs.stock.wb_cards import WbCards

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"


def load(name: str):
    return json.loads((PAYLOADS / name).read_text())


def test_ozon_rows_per_type_with_totals_fbo_plus_fbs_plus_rfbs():
    result = ozon_rows(load("ozon_v4_stocks_page.json")["items"], "main")
    by_key = {(r["sku"], r["stock_type"]): r for r in result.rows}
    fbs = by_key[("test-offer-123456", "fbs")]
    assert (fbs["current_stock"], fbs["reserved_stock"], fbs["available_stock"]) == (150, 25, 125)
    assert fbs["warehouse_id"] == "22142605386000" and fbs["product_id"] == "1000123456"
    fbo = by_key[("test-offer-123456", "fbo")]
    assert fbo["warehouse_id"] == "" and fbo["warehouse_name"] == "Ozon FBO (all warehouses)"
    assert sum(r["current_stock"] for r in result.rows if r["sku"] == "test-offer-123456") == 225


def test_ozon_odd_cases():
    result = ozon_rows(load("ozon_v4_stocks_page.json")["items"], "main")
    skus = {r["sku"] for r in result.rows}
    assert "no-rows" not in skus  # a product without stock rows has nothing to store
    oversold = next(r for r in result.rows if r["sku"] == "oversold")
    assert (oversold["current_stock"], oversold["reserved_stock"], oversold["available_stock"]) == (1, 3, -2)
    assert len(result.skipped) == 2
    assert any("no offer_id" in s for s in result.skipped) and any("bad-figures" in s for s in result.skipped)


@pytest.mark.parametrize(
    "item",
    [
        None,
        [],
        {"offer_id": 5},
        {"offer_id": "x", "stocks": "nope"},
        {"offer_id": "x", "stocks": [{"type": "fbz", "present": 1, "reserved": 0}]},
        {"offer_id": "x", "stocks": [{"type": "fbs", "present": True, "reserved": 0}]},
    ],
)
def test_ozon_unreadable_items_are_skipped_not_guessed(item):
    result = ozon_rows([item], "main")
    assert result.rows == [] and len(result.skipped) == 1


def test_wb_warehouse_rows_map_sizes_to_articles():
    cards = WbCards()
    skipped = cards.add(load("wb_cards_page.json")["cards"])
    assert cards.chrt_ids().tolist() == [91663228, 91663229] and len(skipped) == 2
    result = wb_warehouse_rows(load("wb_wb_warehouses_report.json")["data"]["items"], cards, "main")
    [aggregate] = result.rows
    assert (aggregate["sku"], aggregate["stock_type"], aggregate["warehouse_id"]) == ("HR-1", "fbw", "-999999")
    assert (aggregate["current_stock"], aggregate["reserved_stock"], aggregate["available_stock"]) == (48, 3, 45)
    assert len(result.skipped) == 2  # an unknown size and an unreadable quantity


def test_wb_remains_rows_per_warehouse_with_the_same_sums_as_the_aggregate():
    cards = WbCards.of(load("wb_cards_page.json")["cards"])
    assert [found[0] for found in cards.by_barcodes(["2037401340280", "2037401340281"])] == [91663228, 91663229]
    result = wb_remains_rows(load("wb_warehouse_remains.json"), cards, "main")
    got = {
        r["warehouse_id"]: (r["warehouse_name"], r["current_stock"], r["reserved_stock"], r["available_stock"])
        for r in result.rows
    }
    long_name = "Санкт-Петербург Уткина Заводь (Шушары)"
    assert got == {
        "Коледино": ("Коледино", 45, 0, 45),
        "Подольск": ("Подольск", 0, 0, 0),
        wb_warehouse_key(long_name): (long_name, 0, 0, 0),
        "in_way_to_client": ("В пути до получателей", 3, 3, 0),
    }
    assert all(
        r["sku"] == "HR-1" and r["stock_type"] == "fbw" and r["marketplace_sku"] == "91663228" for r in result.rows
    )
    aggregate = wb_warehouse_rows(load("wb_wb_warehouses_report.json")["data"]["items"], cards, "main").rows[0]
    for column in ("current_stock", "reserved_stock", "available_stock"):
        assert sum(r[column] for r in result.rows) == aggregate[column]
    # an unknown barcode, and a row whose warehouses (7) contradict its own total (9)
    assert [s.split(": ")[1] for s in result.skipped] == [
        "no card for this barcode",
        "its warehouses hold 7, its own total says 9",
    ]


@pytest.mark.parametrize(
    "warehouses",
    [
        [{"warehouseName": "Коледино", "quantity": "many"}],
        [{"warehouseName": "", "quantity": 1}],
        [{"quantity": 1}],
        ["Коледино"],
    ],
)
def test_wb_remains_unreadable_warehouses_skip_the_row(warehouses):
    cards = WbCards.of(load("wb_cards_page.json")["cards"])
    item = {"barcode": "2037401340280", "inWayToClient": 0, "warehouses": warehouses}
    result = wb_remains_rows([item], cards, "main")
    assert result.rows == [] and result.skipped == ["wb remains row barcode=2037401340280: unreadable figures"]


def test_wb_warehouse_key_fits_the_column_and_keeps_long_names_apart():
    assert wb_warehouse_key("Коледино") == "Коледино"
    a, b = "Санкт-Петербург Уткина Заводь (Шушары) 1", "Санкт-Петербург Уткина Заводь (Шушары) 2"
    assert len(wb_warehouse_key(a)) <= 32 and wb_warehouse_key(a) != wb_warehouse_key(b)


def test_wb_seller_rows():
    cards = WbCards.of(load("wb_cards_page.json")["cards"])
    result = wb_seller_rows(
        [{"chrtId": 91663228, "amount": 10}, {"chrtId": 1, "amount": 1}, {"chrtId": 91663229, "amount": "x"}],
        7,
        "Склад",
        cards,
        "main",
    )
    assert [
        (r["sku"], r["stock_type"], r["warehouse_id"], r["current_stock"], r["reserved_stock"]) for r in result.rows
    ] == [("HR-1", "fbs", "7", 10, 0)]
    assert len(result.skipped) == 2


def test_rows_from_pages_reads_wb_cards_first_whatever_the_order():
    pages = [
        ("wb_warehouses", load("wb_wb_warehouses_report.json")),
        ("wb_remains", load("wb_warehouse_remains.json")),
        ("seller_stocks:1", {"stocks": [{"chrtId": 91663229, "amount": 4}]}),
        ("cards", load("wb_cards_page.json")),
        ("seller_warehouses", [{"id": 1, "name": "Склад Москва"}]),
    ]
    chunks = list(rows_from_pages("wb", "main", lambda parts: (p for p in pages if p[0].startswith(parts))))
    rows = [r for chunk in chunks for r in chunk]
    assert {(r["sku"], r["stock_type"], r["warehouse_id"]) for r in rows} >= {
        ("HR-1", "fbw", "-999999"),
        ("HR-1", "fbw", "Коледино"),
        ("HR-1", "fbw", "in_way_to_client"),
        ("HR-2", "fbs", "1"),
    }
    assert next(r for r in rows if r["stock_type"] == "fbs")["warehouse_name"] == "Склад Москва"


def test_rows_from_pages_ozon_several_pages():
    page = load("ozon_v4_stocks_page.json")
    chunks = list(rows_from_pages("ozon", "second", lambda parts: iter([("stocks", page), ("stocks", page)])))
    assert len(chunks) == 2 and all(r["account"] == "second" for r in chunks[0])


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"sku": "S" * 128}, None),
        ({"sku": "S" * 129}, "sku is 129 characters"),
        ({"warehouse_id": "9" * 33}, "warehouse_id is 33 characters"),
        ({"current_stock": 2**31}, "current_stock 2147483648 is beyond"),
        ({"reserved_stock": -(2**31)}, "reserved_stock -2147483648 is beyond"),
        ({"sku": "NULL"}, None),
        ({"sku": "HR\n1"}, "sku 'HR\\n1' holds a line break"),
        ({"product_id": "1\r"}, "product_id '1\\r' holds a line break"),
    ],
)
def test_unstorable_names_what_the_ledger_cannot_hold(changes, reason):
    base = row(
        "ozon", "main", "HR-1", "", "fbs", product_id="1", marketplace_sku="2", warehouse_name="", present=5, reserved=1
    )
    problem = unstorable({**base, **changes})
    assert (problem is None) if reason is None else problem.startswith(reason)


@pytest.mark.parametrize("sku", ["HR-1", "NULL", "12345", 'a "quoted"\tand tabbed SKU', "", "Склад №1 — Коледино"])
def test_stored_rows_round_trip_exactly(sku):
    """What the snapshot stores is what the ledger stages: texts stay texts, numbers stay whole."""
    rows = [
        row(
            "wb",
            "main",
            sku,
            "",
            "fbw",
            product_id="7",
            marketplace_sku="0",
            warehouse_name=sku,
            present=2**31 - 1,
            reserved=-3,
        )
    ]
    assert rows_from_tsv(rows_to_tsv(rows)) == rows
