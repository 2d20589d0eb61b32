"""Sales rows, analysis, product status and stock-event rules: table-driven, boundaries included."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from inventory_pipeline.clock import day_bounds, marketplace_today, utc_from_marketplace
from inventory_pipeline.defs.sales.rules import (
    CoverRules,
    StatusRules,
    analyse,
    classify,
    days_of_cover,
    fbo_event,
    in_stock_days,
    low_on_stock,
    ozon_rows,
    wb_rows,
)
from inventory_pipeline.defs.stock.wb_sku import WbSkuRule

NOW = datetime(2026, 11, 23, 12, 0)
DAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("first_seen", "first_order", "status"),
    [
        (NOW - timedelta(days=3), None, "absolute_new"),
        (NOW - timedelta(days=14), None, "absolute_new"),  # the boundary day still counts
        (NOW - timedelta(days=15), None, "ordinary"),  # long listed, never sold
        (None, None, "ordinary"),
        (NOW - timedelta(days=3), NOW - timedelta(days=1), "new"),
        (NOW - timedelta(days=90), NOW - timedelta(days=30), "new"),
        (NOW - timedelta(days=90), NOW - timedelta(days=31), "ordinary"),
    ],
)
def test_classify(first_seen, first_order, status):
    assert classify(first_seen, first_order, NOW, StatusRules()) == status


@pytest.mark.parametrize(
    ("before", "after", "event"),
    [
        (12, 9, "StockFBOOver"),
        (10, 9, "StockFBOOver"),
        (10, 10, None),
        (11, 10, None),
        (9, 10, "StockFBOReceived"),
        (0, 25, "StockFBOReceived"),
        (9, 3, None),
        (30, 20, None),
    ],
)
def test_fbo_events_at_exactly_ten(before, after, event):
    assert fbo_event(before, after, 10) == event


@pytest.mark.parametrize(
    ("available", "avg", "status", "alert"),
    [
        (10, 1.0, "ordinary", 10.0),
        (13, 1.0, "ordinary", None),
        (12.2, 1.0, "ordinary", None),
        (5, 1.0, "new", 5.0),
        (7, 1.0, "new", None),
        (0, 2.0, "ordinary", 0.0),
        (3, 0.0, "ordinary", None),  # no sales at all: no cover figure, no alert
        (1, 1.0, "absolute_new", None),
    ],
)
def test_low_on_stock(available, avg, status, alert):
    assert low_on_stock(available, avg, status, CoverRules()) == alert


def test_days_of_cover():
    assert days_of_cover(10, 2.0) == 5 and days_of_cover(-3, 2.0) == 0 and days_of_cover(5, 0) is None


def test_wb_rows_orders_sales_returns_and_cancellations():
    orders = [
        {
            "date": "2026-11-20T10:00:00",
            "srid": "a",
            "supplierArticle": "HR-1",
            "warehouseType": "Склад WB",
            "priceWithDisc": 100,
            "isCancel": False,
        },
        {
            "date": "2026-11-20T11:00:00",
            "srid": "b",
            "supplierArticle": "HR-1",
            "warehouseType": "Склад продавца",
            "priceWithDisc": 100,
            "isCancel": True,
        },
        {"date": "2026-11-21T00:10:00", "srid": "c", "supplierArticle": "HR-1", "priceWithDisc": 5},
    ]
    sales = [
        {"date": "2026-11-20T12:00:00", "saleID": "S1", "supplierArticle": "HR-1", "techSize": "0", "forPay": 80},
        {"date": "2026-11-20T13:00:00", "saleID": "R1", "supplierArticle": "TS-5", "techSize": "M", "forPay": -80},
    ]
    rows = wb_rows(orders, sales, "main", DAY, WbSkuRule())
    assert [(r["kind"], r["scheme"], r["quantity"], r["cancelled"], r["sku"]) for r in rows] == [
        ("order", "fbw", 1, False, "HR-1"),
        ("order", "fbs", 1, True, "HR-1"),
        ("sale", "fbs", 1, False, "HR-1"),
        ("return", "fbs", -1, False, "TS-5-M"),  # a size is sold under its own SKU, as its stock is kept
    ]
    mapped = wb_rows([], [{**sales[1], "barcode": "46001"}], "main", DAY, WbSkuRule(mapping={"46001": "T-M"}))
    assert mapped[0]["sku"] == "T-M"
    assert rows[0]["event_at"] == datetime(2026, 11, 20, 7, 0)  # Moscow 10:00 is 07:00 UTC


def test_ozon_rows_keep_the_moscow_day():
    postings = [
        {
            "posting_number": "1-1",
            "status": "delivered",
            "created_at": "2026-11-19T21:30:00Z",
            "products": [{"sku": 5, "offer_id": "HR-2", "quantity": 2, "price": {"amount": "10.50"}}],
        },
        {
            "posting_number": "1-2",
            "status": "cancelled",
            "created_at": "2026-11-19T20:59:59Z",
            "products": [{"sku": 5, "offer_id": "HR-2", "quantity": 1, "price": {"amount": "10"}}],
        },
    ]
    rows = ozon_rows(postings, "fbo", "main", DAY)  # 21:30 UTC on the 19th is 00:30 Moscow on the 20th
    assert [(r["external_id"], r["quantity"], r["amount"]) for r in rows] == [("1-1:5", 2, 21.0)]


def test_analysis_counts_in_stock_days_and_theoretical_sales():
    days = [DAY - timedelta(days=n) for n in (3, 2, 1, 0)]
    key = {"source": "wb", "account": "main", "warehouse_id": "1", "stock_type": "fbs"}
    current = pd.DataFrame([{**key, "sku": "A", "current_stock": 0, "first_seen_at": datetime(2026, 11, 1)}])
    # A had 5 until it sold out on the morning of the 19th (UTC), so it was in stock on the 17th and 18th.
    history = pd.DataFrame([{**key, "sku": "A", "changed_at": datetime(2026, 11, 19, 6), "current_before": 5}])
    stock = in_stock_days(current, history, days)
    assert stock.sort_values("day")["in_stock"].tolist() == [True, True, False, False]
    sales = pd.DataFrame(
        [
            {
                "source": "wb",
                "account": "main",
                "sku": "A",
                "sale_date": days[0],
                "kind": "order",
                "quantity": 1,
                "amount": 10.0,
                "cancelled": False,
            },
            {
                "source": "wb",
                "account": "main",
                "sku": "A",
                "sale_date": days[1],
                "kind": "order",
                "quantity": 3,
                "amount": 30.0,
                "cancelled": False,
            },
            {
                "source": "wb",
                "account": "main",
                "sku": "A",
                "sale_date": days[1],
                "kind": "order",
                "quantity": 1,
                "amount": 10.0,
                "cancelled": True,
            },
            {
                "source": "wb",
                "account": "main",
                "sku": "A",
                "sale_date": days[3],
                "kind": "return",
                "quantity": -1,
                "amount": -10.0,
                "cancelled": False,
            },
        ]
    )
    row = analyse(sales, stock, days).iloc[0]
    assert (row["units"], row["revenue"], row["days_in_stock"]) == (3, 30.0, 2)  # a return proves no stock
    assert row["avg_daily_units_in_stock"] == 2.0 and row["theoretical_units"] == 8.0  # 4 units on 2 days


def test_the_marketplace_clock_is_moscows_whatever_the_machine():
    assert marketplace_today(datetime(2026, 11, 26, 21, 0)) == date(2026, 11, 27)  # 00:00 in Moscow
    assert marketplace_today(datetime(2026, 11, 26, 20, 59)) == date(2026, 11, 26)
    start, end = day_bounds(date(2026, 11, 27))
    assert (start.isoformat(), end.isoformat()) == ("2026-11-26T21:00:00+00:00", "2026-11-27T21:00:00+00:00")
    assert utc_from_marketplace("2026-11-27T02:30:00.123") == datetime(2026, 11, 26, 23, 30)


def test_money_reads_as_money():
    from inventory_pipeline.assets.metadata import money

    assert money(1234567.891).value == "1,234,567.89 ₽"
    assert money(0).value == "0.00 ₽"


def test_a_history_younger_than_the_period_is_said_beside_never_in_stock():
    from inventory_pipeline.defs.sales.assets import history_note

    first, last = date(2026, 11, 1), date(2026, 11, 30)
    fresh = history_note(datetime(2026, 12, 1, 9), first, last, 515, 654)["history_note"].value
    assert "began 2026-12-01 (0 of the period's 30 days)" in fresh and "never_in_stock (515 of 654)" in fresh
    assert (
        "(21 of the period's 30 days)" in history_note(datetime(2026, 11, 10), first, last, 3, 9)["history_note"].value
    )
    assert history_note(datetime(2026, 10, 1), first, last, 3, 9) == {}  # the whole period is known
