"""Each anomaly rule on a crafted ledger state."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from inventory_pipeline.defs.monitoring.anomalies import AnomalyRules, detect

NOW = datetime(2026, 11, 23, 12, 0)
KEY = {"source": "wb", "account": "main", "warehouse_id": "1", "stock_type": "fbs"}


def ledger(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                **KEY,
                "sku": sku,
                "current_stock": present,
                "reserved_stock": reserved,
                "last_sync_at": NOW - timedelta(hours=age),
            }
            for sku, present, reserved, age in rows
        ]
    )


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


def test_a_clean_ledger_has_no_anomalies():
    assert rules_found(ledger(("A", 5, 1, 1), ("B", 0, 0, 7.9))) == set()


def test_each_rule():
    # -1 present with 0 reserved is also "reserved above present": one row may break two rules.
    assert rules_found(ledger(("neg", -1, 0, 1))) == {("neg", "negative"), ("neg", "reserved_over_present")}
    assert rules_found(ledger(("res", 1, -2, 1))) == {("res", "negative")}
    assert rules_found(ledger(("big", 10_001, 0, 1), ("edge", 10_000, 0, 1))) == {("big", "above_max")}
    assert rules_found(ledger(("over", 2, 3, 1))) == {("over", "reserved_over_present")}
    assert rules_found(ledger(("old", 2, 0, 8.5), ("fresh", 2, 0, 8))) == {("old", "stale")}


def test_jumps_need_both_the_share_and_the_units():
    found = rules_found(
        ledger(("a", 1, 0, 1), ("b", 1, 0, 1), ("c", 1, 0, 1), ("d", 1, 0, 1)),
        changes(
            ("a", 100, 89, "changed"),  # 11 %, 11 units: a jump
            ("b", 100, 91, "changed"),  # 9 %: not
            ("c", 5, 4, "changed"),  # 20 % but one unit: not
            ("d", 0, 50, "changed"),  # from nothing: no share to judge
        ),
    )
    assert found == {("a", "jump")}


def test_vanished_skus():
    found = detect(
        ledger(("gone", 0, 0, 1)), changes(("gone", 7, 0, "vanished"), ("new", None, 3, "new")), NOW, AnomalyRules()
    )
    assert found[["sku", "rule", "value"]].values.tolist() == [["gone", "vanished", 7.0]]
