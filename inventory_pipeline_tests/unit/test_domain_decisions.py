"""The decisions the assets take between reading and writing: which snapshot to apply, which
products changed status, which stock events a change raises, whether a snapshot is trusted. Pure
functions, table-driven."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from inventory_pipeline.checks import fresh
from inventory_pipeline.defs.monitoring.stock_alerts import fbo_events, low_stock_events
from inventory_pipeline.defs.sales.rules import CoverRules, StatusRules, status_changes
from inventory_pipeline.defs.stock.fetch import DistinctSkus, Tally
from inventory_pipeline.defs.stock.judge import judge
from inventory_pipeline.defs.stock.ledger import SliceHealth
from inventory_pipeline.defs.stock.ledger_sync import skip_reason, slice_figures, verdicts
from inventory_pipeline.defs.stock.snapshots import Snapshot
from inventory_pipeline.settings import load_settings

NOW = datetime(2026, 11, 23, 12, 0)


def snapshot(applied: bool = False, sku_count: int = 100, row_count: int = 300, parts: dict | None = None) -> Snapshot:
    return Snapshot(
        7, "wb", "main", "run", NOW, "accepted", sku_count, row_count, 0, NOW if applied else None, parts or {}
    )


@pytest.mark.parametrize(
    ("snap", "full_resync", "reason"),
    [
        (None, False, "no accepted snapshot yet"),
        (None, True, "no accepted snapshot yet"),
        (snapshot(applied=True), False, "snapshot 7 already applied; ledger unchanged"),
        (snapshot(applied=True), True, None),
        (snapshot(), False, None),
    ],
)
def test_skip_reason(snap, full_resync, reason):
    assert skip_reason(snap, full_resync) == reason


def test_ledger_verdicts_and_figures_sum_the_account_slices():
    health = [SliceHealth(10, 0, 1, 2, 50), SliceHealth(5, 1, 0, 0, 20)]
    assert slice_figures(health) == {
        "ledger_rows": 15,
        "total_present": 70,
        "reserved_over_present_rows": 2,
        "dagster/row_count": 15,
    }
    assert {v.check: v.passed for v in verdicts(health, 10_000)} == {
        "no_negative_stock": False,
        "stock_within_limit": False,
    }
    assert all(v.passed for v in verdicts(health[:0], 10))
    assert fresh({"ozon": NOW}, NOW, 8).passed
    stale = fresh({"ozon": NOW - timedelta(hours=9), "wb": None}, NOW, 8)
    assert not stale.passed and stale.description == "stale beyond 8 h: ozon (9.0 h), wb (never synced)"
    assert stale.metadata == {"ozon_age_hours": 9.0}  # no limit, no "-1" for never: nothing false to chart


def test_status_changes_report_only_products_whose_status_moved():
    rules = StatusRules(absolute_new_days=14, new_days=30)
    seen = {("main", "A"): NOW - timedelta(days=3), ("main", "B"): NOW - timedelta(days=100)}
    ordered = {("main", "B"): NOW - timedelta(days=2), ("main", "C"): NOW - timedelta(days=60)}
    known = {("main", "A"): "absolute_new", ("main", "B"): "ordinary"}
    changes = sorted(status_changes(seen, ordered, known, NOW, rules))
    assert changes == [(("main", "B"), "ordinary", "new"), (("main", "C"), None, "ordinary")]
    assert status_changes({}, {}, known, NOW, rules) == []


@pytest.mark.parametrize(
    ("delta", "now_units", "kind"),
    [
        (-5, 8, "StockFBOOver"),  # 13 → 8 crosses 10 downwards
        (5, 12, "StockFBOReceived"),  # 7 → 12
        (-2, 11, None),  # 13 → 11 stays above
        (0, 4, None),
    ],
)
def test_fbo_events_fire_on_a_crossing_only(delta, now_units, kind):
    events = fbo_events("main", [("ozon", "SKU", delta)], {("ozon", "SKU"): now_units}, 10)
    assert [e.event_type for e in events] == ([kind] if kind else [])
    if kind:
        assert events[0].figures == {"fbo_units_before": now_units - delta, "fbo_units_now": now_units}


def test_low_stock_events_use_the_status_limit_and_the_sales_window():
    rules = CoverRules((("ordinary", 12.2), ("new", 6.2)))
    sold = {("wb", "A", "fbo"): 70, ("wb", "B", "fbs"): 70}  # 10 a day over 7 days
    statuses = {"B": "new"}
    available = [("wb", "A", "fbo", 100), ("wb", "B", "fbs", 100), ("wb", "C", "fbo", 0)]
    events = low_stock_events("main", sold, statuses, available, 7, rules)
    # A: 10 days of cover < 12.2 (ordinary); B: 10 days ≥ 6.2 (new); C sold nothing: no cover figure.
    assert [(e.sku, e.stock_type, e.figures["days_of_cover"]) for e in events] == [("A", "fbo", 10.0)]


def test_judge_uses_the_previous_snapshot_and_the_source_rules(monkeypatch):
    monkeypatch.setenv("MIN_PRODUCTS_THRESHOLD", "2")
    settings = load_settings()
    tally = Tally(skus=DistinctSkus("abc"), rows=3, received_items=3, expected_items=3)
    assert all(v.passed for v in judge("ozon", tally, None, settings, False))
    shrunk = judge("ozon", tally, snapshot(sku_count=100, row_count=300), settings, False)
    assert [v.check for v in shrunk if not v.passed] == ["no_collapse"]
    assert all(v.passed for v in judge("ozon", tally, snapshot(sku_count=100, row_count=300), settings, True))
    short = Tally(skus=DistinctSkus("ab"), rows=2, received_items=2, expected_items=5)
    assert [v.check for v in judge("ozon", short, None, settings, False) if not v.passed] == ["complete"]
    wb = Tally(skus=DistinctSkus("abc"), rows=3, problems=["warehouse 7 answered sizes it was not asked for"])
    assert [v.check for v in judge("wb", wb, None, settings, False) if not v.passed] == ["complete"]
    # A part that lost its sizes is an incomplete answer, judged alone: the total may look fine.
    old = snapshot(sku_count=3, row_count=3, parts={"card_sizes": 40})
    lost = judge("wb", Tally(skus=DistinctSkus("abc"), rows=3), old, settings, False)
    assert [v.check for v in lost if not v.passed] == ["complete"]


def test_distinct_skus_count_each_sku_once_across_pages():
    skus = DistinctSkus(["A", "B", "A"])
    skus.update(["B", "C"])
    assert len(skus) == 3
    skus.update(f"SKU-{n % 1000}" for n in range(DistinctSkus.COMPACT_AT + 5))
    assert len(skus) == 1003
    assert len(DistinctSkus()) == 0
