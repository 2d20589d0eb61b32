"""Each anomaly rule on a crafted ledger state, and the check's severity by the size of a finding."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from dagster import AssetCheckSeverity

from inventory_pipeline.defs.monitoring.anomalies import AnomalyRules, detect, judge, units_moved

NOW = datetime(2026, 11, 23, 12, 0)
KEY = {"source": "wb", "account": "main", "warehouse_id": "1", "stock_type": "fbs"}


def ledger(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                **KEY,
                "sku": sku,
                "current_stock": present,
                "reserved_stock": reserved,
                "last_sync_at": NOW - timedelta(hours=age),
            }
            for sku, present, reserved, age in rows
        ],
        columns=[*KEY, "sku", "current_stock", "reserved_stock", "last_sync_at"],
    )
    return frame.assign(last_sync_at=pd.to_datetime(frame.last_sync_at))


def changes(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {**KEY, "sku": sku, "current_before": before, "current_after": after, "change": kind}
            for sku, before, after, kind in rows
        ],
        columns=[*KEY, "sku", "current_before", "current_after", "change"],
    )


def rules_found(led, chg=None) -> set[tuple[str, str]]:
    found = detect(led, chg if chg is not None else changes(), NOW, AnomalyRules())
    return set(zip(found["sku"], found["rule"], strict=True))


RULES = AnomalyRules()


def judged(led, chg, units_now: int, rules: AnomalyRules = RULES):
    _, result, severity = judge(detect(led, chg, NOW, rules), units_moved(chg), {"wb": units_now}, rules)
    return result, severity


def test_a_clean_ledger_has_no_anomalies():
    assert rules_found(ledger(("A", 5, 1, 1), ("B", 0, 0, 7.9))) == set()


def test_each_rule():
    # -1 present with 0 reserved is also "reserved above present": one row may break two rules.
    assert rules_found(ledger(("neg", -1, 0, 1))) == {("neg", "negative"), ("neg", "reserved_over_present")}
    assert rules_found(ledger(("res", 1, -2, 1))) == {("res", "negative")}
    assert rules_found(ledger(("big", 10_001, 0, 1), ("edge", 10_000, 0, 1))) == {("big", "above_max")}
    assert rules_found(ledger(("over", 2, 3, 1))) == {("over", "reserved_over_present")}
    assert rules_found(ledger(("old", 2, 0, 8.5), ("fresh", 2, 0, 8))) == {("old", "stale")}


def test_falls_need_both_the_share_and_the_units_and_restocks_are_no_anomaly():
    found = rules_found(
        ledger(("a", 1, 0, 1)),
        changes(
            ("a", 100, 89, "changed"),  # 11 %, 11 units: listed
            ("b", 100, 91, "changed"),  # 9 %: not
            ("c", 5, 4, "changed"),  # 20 % but one unit: not
            ("sold_out", 2, 0, "changed"),  # to zero: listed, whatever the units
            ("d", 0, 50, "changed"),  # a restock from nothing
            ("e", 10, 400, "changed"),  # a restock
        ),
    )
    assert found == {("a", "drop"), ("sold_out", "drop")}


def test_vanished_skus():
    found = detect(
        ledger(("gone", 0, 0, 1)), changes(("gone", 7, 0, "vanished"), ("new", None, 3, "new")), NOW, AnomalyRules()
    )
    assert found[["sku", "rule", "severity", "value"]].values.tolist() == [["gone", "vanished", "info", 7.0]]


def test_findings_are_sorted_by_severity_then_size():
    found = detect(
        ledger(("over", 2, 3, 1), ("big", 20_000, 0, 1)),
        changes(("small", 100, 80, "changed"), ("large", 100, 10, "changed")),
        NOW,
        AnomalyRules(),
    )
    assert found[["sku", "severity"]].values.tolist() == [
        ["big", "error"],
        ["over", "warn"],
        ["large", "info"],
        ["small", "info"],
    ]


def test_an_ordinary_sync_passes_the_check():
    """Sales take a few units, restocks add many, a SKU or two is delisted: nothing is wrong."""
    chg = changes(
        *[(f"sold{n}", 40, 30, "changed") for n in range(50)],
        *[(f"restock{n}", 3, 300, "changed") for n in range(200)],
        ("delisted", 6, 0, "vanished"),
    )
    result, _ = judged(ledger(), chg, units_now=100_000)
    assert result.passed, result.description
    assert result.metadata == {"errors": 0, "warnings": 0, "listed": 51}


def test_oversold_or_stale_rows_warn():
    result, severity = judged(ledger(("over", 2, 3, 1)), changes(), units_now=1000)
    assert not result.passed and severity == AssetCheckSeverity.WARN
    assert "1 reserved over present" in result.description


def test_an_absurd_value_is_an_error():
    result, severity = judged(ledger(("big", 99_999, 0, 1)), changes(), units_now=1000)
    assert not result.passed and severity == AssetCheckSeverity.ERROR


def test_a_mass_vanishing_is_an_error_a_few_are_not():
    few, _ = judged(ledger(), changes(*[(f"g{n}", 1, 0, "vanished") for n in range(99)]), units_now=100_000)
    assert few.passed
    many, severity = judged(ledger(), changes(*[(f"g{n}", 1, 0, "vanished") for n in range(100)]), units_now=100_000)
    assert not many.passed and severity == AssetCheckSeverity.ERROR
    assert "wb: 100 rows brought to zero in one sync" in many.description
    assert many.metadata["errors"] == 100  # the rows behind the verdict count as errors


def test_rows_answered_as_zero_count_as_a_vanishing():
    """1,484 rows the API answers as 0 (still listed, so "changed", not "vanished"), one SKU holding
    most of the units: no collapse of units, but a mass zeroing all the same."""
    chg = changes(*[(f"z{n}", 2, 0, "changed") for n in range(1484)])
    found, result, severity = judge(detect(ledger(), chg, NOW, RULES), units_moved(chg), {"wb": 10_000}, RULES)
    assert not result.passed and severity == AssetCheckSeverity.ERROR
    assert "1484 rows brought to zero" in result.description and set(found.severity) == {"error"}


def test_a_transfer_between_warehouses_is_no_collapse():
    chg = pd.concat(
        [
            changes(("moved", 500, 0, "changed")).assign(warehouse_id="koledino"),
            changes(("moved", 0, 500, "changed")).assign(warehouse_id="elektrostal"),
        ]
    )
    result, _ = judged(ledger(), chg, units_now=1000)
    assert result.passed, result.description


def test_an_ordinary_sale_in_a_small_slice_is_no_collapse():
    result, _ = judged(ledger(), changes(("s", 10, 6, "changed")), units_now=6)
    assert result.passed, result.description


def test_a_collapse_of_units_is_an_error_even_when_every_row_stays():
    """Every row still there, each a little lower, but a third of the slice's units gone."""
    chg = changes(*[(f"s{n}", 10, 6, "changed") for n in range(100)])  # 400 of 1,000 units, 40 % each
    result, severity = judged(ledger(), chg, units_now=600)
    assert not result.passed and severity == AssetCheckSeverity.ERROR
    assert "400 of 1,000 units gone in one sync (40%" in result.description
    # The same falls in a large slice are the day's sales.
    calm, _ = judged(ledger(), chg, units_now=100_000)
    assert calm.passed
    _, _, severity = judge(detect(ledger(), chg, NOW, RULES), units_moved(chg), {"wb": 600}, RULES)
    assert severity == AssetCheckSeverity.ERROR
