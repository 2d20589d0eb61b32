"""Normalizers on recorded payloads, odd cases included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory_pipeline.defs.stock.ledger import rows_from_tsv, rows_to_tsv
from inventory_pipeline.defs.stock.normalize import (
    Keep,
    ozon_rows,
    row,
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
    # An unreadable figure is skipped and its key kept; an item that names no offer makes the answer incomplete.
    assert len(result.skipped) == 1 and "bad-figures" in result.skipped[0]
    assert result.keep == [Keep("bad-figures", "fbs")]
    assert len(result.problems) == 1 and "names no offer_id" in result.problems[0]


@pytest.mark.parametrize(
    ("item", "kept", "problem"),
    [
        (None, [], True),
        ([], [], True),
        ({"offer_id": 5}, [], True),
        ({"offer_id": "   "}, [], True),
        ({"offer_id": "x", "stocks": "nope"}, [Keep("x")], False),
        ({"offer_id": "x", "stocks": [{"type": "fbz", "present": 1, "reserved": 0}]}, [Keep("x")], False),
        ({"offer_id": "x", "stocks": [{"type": "fbs", "present": True, "reserved": 0}]}, [Keep("x", "fbs")], False),
        (
            {"offer_id": "x", "stocks": [{"type": "fbo", "present": 2**31, "reserved": 0}]},
            [Keep("x", "fbo", "")],
            False,
        ),
    ],
)
def test_ozon_unreadable_items_are_skipped_not_guessed(item, kept, problem):
    """Nothing unreadable becomes a zero: a row's key is kept, an unnamed item makes the answer incomplete."""
    result = ozon_rows([item], "main")
    assert result.rows == [] and result.keep == kept
    assert (len(result.problems), len(result.skipped)) == ((1, 0) if problem else (0, 1))


def test_an_offer_id_is_exact():
    items = [{"offer_id": sku, "stocks": [{"type": "fbs", "present": 1, "reserved": 0}]} for sku in ("A", "A ", "a")]
    assert [r["sku"] for r in ozon_rows(items, "main").rows] == ["A", "A ", "a"]


def test_wb_warehouse_rows_map_sizes_to_skus():
    cards = WbCards()
    skipped = cards.add(load("wb_cards_page.json")["cards"])
    assert cards.chrt_ids().tolist() == [91663228, 91663229, 91663240, 91663241, 91663242] and len(skipped) == 2
    result = wb_warehouse_rows(load("wb_wb_warehouses_report.json")["data"]["items"], cards, "main")
    [aggregate] = result.rows
    assert (aggregate["sku"], aggregate["stock_type"], aggregate["warehouse_id"]) == ("HR-1", "fbw", "-999999")
    assert (aggregate["current_stock"], aggregate["reserved_stock"], aggregate["available_stock"]) == (50, 3, 47)
    # Stock for a size no card lists makes the answer incomplete; an unreadable quantity keeps its row.
    assert len(result.problems) == 1 and "no card lists this size" in result.problems[0]
    assert result.skipped == ["wb report row nmId=111222334 chrtId=91663229: unreadable figures"]
    assert result.keep == [Keep("HR-2", "fbw")]


def test_wb_remains_rows_per_size_and_warehouse_with_the_same_sums_as_the_aggregate():
    cards = WbCards.of(load("wb_cards_page.json")["cards"])
    assert [found[0] for found in cards.by_card_size([111222333, 111222337, 111222337], ["0", "M", "XL"])[:2]] == [
        91663228,
        91663241,
    ]
    result = wb_remains_rows(load("wb_warehouse_remains.json"), cards, "main")
    got = {
        (r["sku"], r["warehouse_id"]): (
            r["warehouse_name"],
            r["current_stock"],
            r["reserved_stock"],
            r["available_stock"],
        )
        for r in result.rows
    }
    long_name = "Санкт-Петербург Уткина Заводь (Шушары)"
    assert got == {
        ("HR-1", "Коледино"): ("Коледино", 45, 0, 45),
        ("HR-1", wb_warehouse_key(long_name)): (long_name, 2, 0, 2),
        ("HR-1", "in_way_to_client"): ("В пути до получателей", 3, 3, 0),
        ("TS-5-S", "Коледино"): ("Коледино", 4, 0, 4),  # every size its own row, its own SKU
        ("TS-5-M", "Коледино"): ("Коледино", 6, 0, 6),
    }
    assert {r["marketplace_sku"] for r in result.rows if r["sku"] == "HR-1"} == {"91663228"}
    aggregate = wb_warehouse_rows(load("wb_wb_warehouses_report.json")["data"]["items"], cards, "main").rows[0]
    for column in ("current_stock", "reserved_stock", "available_stock"):
        assert sum(r[column] for r in result.rows if r["sku"] == "HR-1") == aggregate[column]
    # Stock of a size no card lists: incomplete. A row that contradicts its own total: kept as it was.
    assert [p.split(": ")[1] for p in result.problems] == ["holds stock, but no card lists this size"]
    assert [s.split(": ")[1] for s in result.skipped] == ["its warehouses hold 7, its own total says 9"]
    assert result.keep == [Keep("HR-2", "fbw")]


@pytest.mark.parametrize(
    "warehouses",
    [
        [{"warehouseName": "Коледино", "quantity": "many"}],
        [{"warehouseName": "", "quantity": 1}],
        [{"quantity": 1}],
        ["Коледино"],
        None,
    ],
)
def test_wb_remains_unreadable_warehouses_keep_the_size(warehouses):
    cards = WbCards.of(load("wb_cards_page.json")["cards"])
    item = {"nmId": 111222337, "techSize": "L", "warehouses": warehouses}
    result = wb_remains_rows([item], cards, "main")
    assert result.rows == [] and result.keep == [Keep("TS-5-L", "fbw")]
    assert result.skipped == ["wb remains row nmId=111222337 techSize='L': unreadable warehouses"]


def test_wb_remains_row_of_an_unknown_size_without_stock_is_nothing_lost():
    cards = WbCards.of(load("wb_cards_page.json")["cards"])
    result = wb_remains_rows([{"nmId": 5, "techSize": "0", "warehouses": []}], cards, "main")
    assert (result.rows, result.skipped, result.problems, result.keep) == ([], [], [], [])


def test_wb_warehouse_key_fits_the_column_and_keeps_long_names_apart():
    assert wb_warehouse_key("Коледино") == "Коледино"
    a, b = "Санкт-Петербург Уткина Заводь (Шушары) 1", "Санкт-Петербург Уткина Заводь (Шушары) 2"
    assert len(wb_warehouse_key(a)) <= 32 and wb_warehouse_key(a) != wb_warehouse_key(b)


def test_wb_seller_rows():
    cards = WbCards.of(load("wb_cards_page.json")["cards"])
    result = wb_seller_rows(
        [
            {"chrtId": 91663228, "amount": 10},
            {"chrtId": 91663242, "amount": 3},
            {"chrtId": 1, "amount": 1},
            {"chrtId": 91663229, "amount": "x"},
        ],
        7,
        "Склад",
        cards,
        "main",
    )
    assert [
        (r["sku"], r["stock_type"], r["warehouse_id"], r["current_stock"], r["reserved_stock"]) for r in result.rows
    ] == [("HR-1", "fbs", "7", 10, 0), ("TS-5-L", "fbs", "7", 3, 0)]
    assert len(result.problems) == 1 and "a size no card lists" in result.problems[0]
    assert len(result.skipped) == 1 and result.keep == [Keep("HR-2", "fbs", "7")]


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
