"""Wix targets, plan and guard: the pure rules, table-driven."""

from __future__ import annotations

import pandas as pd
import pytest

from inventory_pipeline.defs.wix.plan import Plan, PlanItem, TargetRules, WixItem, guard, plan, targets
from inventory_pipeline.defs.wix.undo import Pushed, undo_plan

COLUMNS = ["source", "account", "sku", "warehouse_id", "stock_type", "available_stock"]


def ledger(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


LEDGER = ledger(
    ("ozon", "main", "A", "22142605386000", "fbs", 5),
    ("ozon", "main", "A", "", "fbo", 40),  # Ozon's own warehouse: not for Wix buyers
    ("wb", "main", "A", "1", "fbs", 4),
    ("wb", "main", "A", "507", "fbw", 30),
    ("ozon", "main", "B", "22142605388000", "rfbs", 2),
    ("ozon", "main", "C", "", "fbo", 9),  # only FBO stock: 0 on Wix
    ("wb", "main", "D", "1", "fbs", -3),  # oversold: counts as nothing, never negative
)


def test_default_targets_count_the_sellers_own_warehouses():
    assert targets(LEDGER, TargetRules()) == {"A": 9, "B": 2, "C": 0, "D": 0}


def test_a_shared_physical_warehouse_is_counted_once():
    same = TargetRules(warehouse_map={"ozon:22142605386000": "moscow", "wb:1": "moscow"})
    assert targets(LEDGER, same)["A"] == 5  # the larger of the two reports of one shelf


CITY = {"ozon:22142605386000": "moscow", "ozon:": "moscow", "wb:1": "moscow", "wb:2": "moscow"}


@pytest.mark.parametrize(
    ("rows", "rules", "expected"),
    [
        # One source in one place adds up: Ozon's FBS and rFBS rows without a warehouse id are one place.
        ([("ozon", "main", "", "fbs", 7), ("ozon", "main", "", "rfbs", 5)], TargetRules(), 12),
        # Two WB warehouses the map puts in one city: one reporter, so they add up (not max(4, 6)).
        ([("wb", "main", "1", "fbs", 4), ("wb", "main", "2", "fbs", 6)], TargetRules(warehouse_map=CITY), 10),
        # Two warehouses nobody maps: two places.
        ([("wb", "main", "1", "fbs", 4), ("wb", "main", "2", "fbs", 6)], TargetRules(), 10),
        # Ozon and WB report one shelf the map names: the larger report, not both.
        (
            [("ozon", "main", "22142605386000", "fbs", 5), ("wb", "main", "1", "fbs", 7)],
            TargetRules(warehouse_map=CITY),
            7,
        ),
        # Each reporter adds up its rows in the city first, then the larger reporter counts: max(3 + 4, 2 + 2).
        (
            [
                ("ozon", "main", "22142605386000", "fbs", 3),
                ("ozon", "main", "", "rfbs", 4),
                ("wb", "main", "1", "fbs", 2),
                ("wb", "main", "2", "fbs", 2),
            ],
            TargetRules(warehouse_map=CITY),
            7,
        ),
        # The same shelf unmapped is two places: Ozon's and WB's figures add up.
        ([("ozon", "main", "22142605386000", "fbs", 5), ("wb", "main", "1", "fbs", 7)], TargetRules(), 12),
        # Two accounts in unmapped warehouses: each its own stock.
        ([("wb", "main", "1", "fbs", 3), ("wb", "second", "1", "fbs", 4)], TargetRules(), 7),
        # An oversold row counts as nothing; it does not take from its neighbours.
        ([("ozon", "main", "", "fbs", -3), ("ozon", "main", "", "rfbs", 5)], TargetRules(), 5),
        # A mapped place and an unmapped one add up.
        ([("wb", "main", "1", "fbs", 4), ("wb", "main", "9", "fbs", 1)], TargetRules(warehouse_map=CITY), 5),
    ],
)
def test_a_source_adds_up_within_a_place_and_one_shelf_is_counted_once(rows, rules, expected):
    frame = ledger(
        *((source, account, "A", warehouse, kind, units) for source, account, warehouse, kind, units in rows)
    )
    assert targets(frame, rules) == {"A": expected}


def test_wb_warehouses_per_name_or_one_aggregate_give_one_target():
    fbw = TargetRules(stock_types=("fbw",))
    aggregate = ledger(("wb", "main", "A", "-999999", "fbw", 45))
    per_warehouse = ledger(
        ("wb", "main", "A", "Коледино", "fbw", 40),
        ("wb", "main", "A", "Подольск", "fbw", 5),
        ("wb", "main", "A", "in_way_to_client", "fbw", 0),  # sold, on its way: nothing to offer
    )
    assert targets(aggregate, fbw) == targets(per_warehouse, fbw) == {"A": 45}
    shared = TargetRules(
        stock_types=("fbs", "fbw"), warehouse_map={"wb:Коледино": "moscow", "ozon:22142605386000": "moscow"}
    )
    with_ozon = pd.concat([per_warehouse, ledger(("ozon", "main", "A", "22142605386000", "fbs", 38))])
    assert targets(with_ozon, shared) == {"A": 45}  # WB's Коледино and Ozon's report are one shelf: 40, not 78


def test_buffers_cap_and_configured_types():
    assert targets(LEDGER, TargetRules(buffer=3)) == {"A": 6, "B": 0, "C": 0, "D": 0}
    assert targets(LEDGER, TargetRules(buffer=3, sku_buffers={"A": 0}))["A"] == 9
    assert targets(LEDGER, TargetRules(cap=7))["A"] == 7
    assert targets(LEDGER, TargetRules(stock_types=("fbs", "rfbs", "fbo", "fbw")))["C"] == 9


def test_empty_ledger():
    assert targets(ledger(), TargetRules()) == {}


def item(sku: str, qty: int, product: str = "p") -> WixItem:
    return WixItem(sku, f"{product}-{sku}", f"v-{sku}", f"i-{sku}", qty)


def test_plan_sorts_found_missing_unknown_and_ambiguous():
    wix = [item("A", 1), item("B", 2), item("X", 5), item("C", 0), item("C", 1, "other")]
    planned = plan({"A": 9, "B": 2, "C": 0, "Z": 4}, wix)
    assert [(p.item.sku, p.delta) for p in planned.items] == [("A", 8), ("B", 0)]
    assert [p.item.sku for p in planned.changes] == ["A"]
    assert (planned.not_found, planned.unknown, planned.duplicates) == (["Z"], ["X"], ["C"])


@pytest.mark.parametrize(
    ("before", "after", "passed"),
    [
        ([5, 5, 5, 5], [5, 5, 5, 0], True),  # one of four to zero: 25 %, at the limit
        ([5, 5, 5, 5], [5, 5, 0, 0], False),  # half the SKUs emptied
        ([10, 10, 10, 10], [5, 5, 5, 4], False),  # total falls 52 %
        ([10, 10, 10, 10], [5, 5, 5, 5], True),  # total falls exactly 50 %
        ([0, 0], [0, 3], True),  # nothing in Wix before: any fill is fine
    ],
)
def test_guard(before, after, passed):
    planned = Plan(
        [PlanItem(item(str(n), b), a) for n, (b, a) in enumerate(zip(before, after, strict=True))], [], [], []
    )
    verdict = guard(planned, max_zero_share=0.25, max_total_change=0.5)
    assert verdict.passed is passed
    if not passed:
        assert "confirm_large_change" in verdict.description


def _wix(sku: str, quantity: int) -> WixItem:
    return WixItem(sku, "p", "v", "i", quantity)


@pytest.mark.parametrize(
    ("pushed", "now", "rewritten", "written", "why"),
    [
        (Pushed("A", 10, 5, "applied"), 5, set(), 10, None),  # nothing sold since: back to 10
        (Pushed("A", 10, 5, "applied"), 3, set(), 8, None),  # 2 sold since the push: 10 less those 2
        (Pushed("A", 5, 10, "applied"), 7, set(), 2, None),  # the push added 5, 3 sold since: 2
        (Pushed("A", 5, 10, "applied"), 2, set(), 0, "sold 3 more than the push added"),
        (Pushed("A", 5, 10, "pending"), 10, set(), 5, None),  # it landed before the run died
        (Pushed("A", 5, 10, "pending"), 5, set(), None, "the write never landed"),
        (Pushed("A", 5, 10, "pending"), 7, set(), None, "may not have landed and Wix has changed since"),
        (Pushed("A", 5, 10, "applied"), 10, {"A"}, None, "written again by a later push"),
        (Pushed("A", 5, 10, "applied"), None, set(), None, "no longer in Wix"),
    ],
)
def test_undoing_a_push_takes_back_its_own_change_from_what_wix_holds_now(pushed, now, rewritten, written, why):
    current = {} if now is None else {"A": _wix("A", now)}
    undo, alone = undo_plan([pushed], current, rewritten)
    assert [p.target for p in undo] == ([] if written is None else [written])
    if why is None:
        assert alone == []
    else:
        assert len(alone) == 1 and why in alone[0].why
