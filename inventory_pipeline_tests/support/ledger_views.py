"""Compare the ledger with the sandbox's ground truth, each side summed to what both can see."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Engine, func, select

from inventory_pipeline.db.tables import inventory_data, inventory_history


def ledger_view(engine: Engine, source: str, account: str = "main") -> dict[tuple, tuple[int, int]]:
    """(sku, stock_type) → (present, reserved), summed over warehouses, zero rows left out."""
    d = inventory_data
    out: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    with engine.connect() as conn:
        for sku, kind, present, reserved in conn.execute(
            select(d.c.sku, d.c.stock_type, d.c.current_stock, d.c.reserved_stock).where(
                d.c.source == source, d.c.account == account
            )
        ):
            out[(sku, kind)][0] += present
            out[(sku, kind)][1] += reserved
    return {k: tuple(v) for k, v in out.items() if v != [0, 0]}


def unreadable(rows: list[dict]) -> set[tuple]:
    """(sku, stock_type) keys the sandbox serves unreadable now: their ledger rows keep the last
    value read, which the truth of this moment need not equal."""
    return {(r["sku"], r["stock_type"]) for r in rows if not r.get("readable", True)}


def truth_view(rows: list[dict], source: str) -> dict[tuple, tuple[int, int]]:
    out: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        key = (r["sku"], r["stock_type"])
        if source == "ozon":
            out[key][0] += r["present"]
            out[key][1] += r["reserved"]
        else:
            out[key][0] += r["quantity"] + r["in_way_to_client"]
            out[key][1] += r["in_way_to_client"]
    return {k: tuple(v) for k, v in out.items() if v != [0, 0]}


def assert_ledger_matches(engine: Engine, truth: list[dict], source: str, account: str = "main") -> None:
    """The ledger equals the truth for every key the sandbox serves readable now."""
    skipped = unreadable(truth)
    ledger = {k: v for k, v in ledger_view(engine, source, account).items() if k not in skipped}
    expected = {k: v for k, v in truth_view(truth, source).items() if k not in skipped}
    assert ledger == expected


def ledger_state(engine: Engine) -> list[tuple]:
    """Every ledger row's key and figures: equal before and after means nothing changed."""
    d = inventory_data
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                select(
                    d.c.source,
                    d.c.account,
                    d.c.sku,
                    d.c.warehouse_id,
                    d.c.stock_type,
                    d.c.current_stock,
                    d.c.reserved_stock,
                    d.c.available_stock,
                    d.c.last_sync_at,
                )
            ).all()
        )


def history_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(inventory_history)).scalar_one()
