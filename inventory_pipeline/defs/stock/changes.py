"""What one run changed in a ledger slice, largest first: the rows behind a sync's counts."""

from sqlalchemy import Engine, func, select

from inventory_pipeline.db.tables import inventory_history

CHANGE_COLUMNS = ["source", "sku", "warehouse_id", "stock_type", "change", "before", "after", "moved"]


def largest(engine: Engine, source: str | None, account: str, run_id: str, limit: int = 30) -> tuple[list[dict], int]:
    """The run's history rows of the slice (every source of the account when ``source`` is None), the
    largest movements of present units first, and how many there are in all."""
    h = inventory_history
    moved = h.c.current_after - func.coalesce(h.c.current_before, 0)
    mine = (h.c.account == account, h.c.run_id == run_id, *((h.c.source == source,) if source else ()))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).where(*mine)).scalar_one()
        rows = conn.execute(
            select(
                h.c.source,
                h.c.sku,
                h.c.warehouse_id,
                h.c.stock_type,
                h.c.change,
                h.c.current_before.label("before"),
                h.c.current_after.label("after"),
                moved.label("moved"),
            )
            .where(*mine)
            .order_by(func.abs(moved).desc(), h.c.sku)
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows], int(total)
