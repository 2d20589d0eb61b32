"""The check rules, table-driven, with their boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from inventory_pipeline import checks

NOW = datetime(2026, 11, 23, 12, 0, 0)


@pytest.mark.parametrize(
    ("skus", "minimum", "passed"), [(10, 10, True), (9, 10, False), (0, 10, False), (100_000, 10, True)]
)
def test_enough_products(skus, minimum, passed):
    assert checks.enough_products(skus, minimum).passed is passed


@pytest.mark.parametrize(
    ("skus", "rows", "prev_skus", "prev_rows", "passed"),
    [
        (100, 300, None, None, True),  # first snapshot
        (50, 150, 100, 300, True),  # exactly half gone: at the limit, allowed
        (49, 150, 100, 300, False),  # more than half of the SKUs gone
        (100, 100, 100, 300, False),  # SKUs intact, but two thirds of the stock rows gone (WB report empty)
        (0, 0, 100, 300, False),
        (150, 500, 100, 300, True),  # growth is fine
    ],
)
def test_no_collapse(skus, rows, prev_skus, prev_rows, passed):
    verdict = checks.no_collapse(skus, rows, prev_skus, prev_rows, 0.5)
    assert verdict.passed is passed
    if not passed:
        assert "MAX_SNAPSHOT_DROP" in verdict.description and "accept_collapse" in verdict.description


def test_collapse_accepted_by_operator_says_so():
    verdict = checks.no_collapse(10, 10, 100, 300, 0.5, accepted_by_operator=True)
    assert verdict.passed and "accepted by run config" in verdict.description


@pytest.mark.parametrize(
    ("received", "expected", "passed"), [(10, 10, True), (9, 10, False), (11, 10, False), (10, None, True)]
)
def test_complete(received, expected, passed):
    assert checks.complete(received, expected).passed is passed


def test_fresh_per_source():
    fresh = checks.fresh({"ozon": NOW - timedelta(hours=8), "wb": NOW - timedelta(hours=1)}, NOW, 8)
    assert fresh.passed and fresh.metadata["ozon_age_hours"] == 8.0
    stale = checks.fresh({"ozon": NOW - timedelta(hours=8, seconds=1), "wb": None}, NOW, 8)
    assert not stale.passed
    assert "ozon (8.0 h)" in stale.description and "wb (never synced)" in stale.description


def test_ledger_checks_fail_on_any_bad_row():
    assert checks.no_negative_stock(0).passed and not checks.no_negative_stock(1).passed
    assert checks.stock_within_limit(0, 10_000).passed and not checks.stock_within_limit(2, 10_000).passed
    assert checks.no_duplicate_keys(0).passed and not checks.no_duplicate_keys(3).passed
