"""The Wix domain's SQL: the ledger as the plan reads it, stored plans, and the push journal."""

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Engine, bindparam, func, insert, select, update

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.dialect import named_lock, select_in
from inventory_pipeline.db.tables import inventory_data, wix_plan_items, wix_plans, wix_push_log
from inventory_pipeline.defs.wix.plan import Plan, PlanItem, WixItem
from inventory_pipeline.defs.wix.push import Written


def ledger_frame(engine: Engine, skus: Iterable[str] | None = None) -> pd.DataFrame:
    """The ledger rows the targets are summed from: every row, or only those of ``skus``."""
    d = inventory_data
    query = select(d.c.source, d.c.account, d.c.sku, d.c.warehouse_id, d.c.stock_type, d.c.available_stock)
    with engine.connect() as conn:
        rows = select_in(conn, query, d.c.sku, skus)
        return pd.DataFrame(rows, columns=["source", "account", "sku", "warehouse_id", "stock_type", "available_stock"])


def save_plan(engine: Engine, run_id: str, version: str, planned: Plan, total: int) -> int:
    with engine.begin() as conn:
        plan_id = int(
            conn.execute(
                insert(wix_plans).values(
                    run_id=run_id,
                    catalog_version=version,
                    created_at=utcnow(),
                    total_products=total,
                    found_in_wix=len(planned.items),
                    updates_prepared=len(planned.changes),
                    unknown_in_wix=len(planned.unknown),
                )
            ).inserted_primary_key[0]
        )
        if planned.items:
            conn.execute(
                insert(wix_plan_items),
                [
                    {
                        "plan_id": plan_id,
                        "sku": p.item.sku,
                        "product_id": p.item.product_id,
                        "variant_id": p.item.variant_id,
                        "inventory_item_id": p.item.inventory_item_id,
                        "revision": p.item.revision,
                        "current_quantity": p.item.quantity,
                        "target_quantity": p.target,
                    }
                    for p in planned.items
                ],
            )
    return plan_id


def plan_to_push(engine: Engine, run_id: str) -> int | None:
    """This run's plan; when the push runs alone, the newest plan (its age is checked before use)."""
    p = wix_plans
    with engine.connect() as conn:
        return conn.execute(select(p.c.id).order_by((p.c.run_id == run_id).desc(), p.c.id.desc()).limit(1)).scalar()


def load_plan(engine: Engine, plan_id: int, skus: Iterable[str] | None = None) -> tuple[dict, list[PlanItem]]:
    """A stored plan: its header and its items (every item, or those of ``skus``)."""
    i = wix_plan_items
    query = select(i).where(i.c.plan_id == plan_id)
    with engine.connect() as conn:
        header = conn.execute(select(wix_plans).where(wix_plans.c.id == plan_id)).one()._asdict()
        rows = select_in(conn, query, i.c.sku, skus)
    return header, [
        PlanItem(
            WixItem(r.sku, r.product_id, r.variant_id, r.inventory_item_id, r.current_quantity, r.revision),
            r.target_quantity,
        )
        for r in rows
    ]


def plan_totals(engine: Engine, plan_id: int) -> tuple[int, int]:
    """How many items a plan found in Wix, and the quantity they held."""
    i = wix_plan_items
    with engine.connect() as conn:
        found, held = conn.execute(
            select(func.count(), func.coalesce(func.sum(i.c.current_quantity), 0)).where(i.c.plan_id == plan_id)
        ).one()
    return int(found), int(held)


def pushed_since(engine: Engine, since, plan_run: str) -> tuple[set[str], int]:
    """What pushes other than the plan's own applied since ``since``: the SKUs they took to zero, and
    the quantity they moved (so that many small pushes are judged as the one they add up to)."""
    w = wix_push_log
    with engine.connect() as conn:
        rows = conn.execute(
            select(w.c.sku, w.c.before_quantity, w.c.target_quantity).where(
                w.c.pushed_at >= since, w.c.run_id != plan_run, w.c.status == "applied"
            )
        ).all()
    zeroed = {r.sku for r in rows if r.target_quantity == 0 and r.before_quantity > 0}
    return zeroed, sum(r.target_quantity - r.before_quantity for r in rows)


WRITE_LOCK_SECONDS = 300  # a batch's re-read and write take seconds; a stuck holder is a failure

SETTLED = ("before_quantity", "target_quantity", "delta", "status", "error", "pushed_at")


class PushJournal:
    """``wix_push_log`` written batch by batch: ``pending`` rows committed before Wix is written,
    settled to ``applied``/``failed`` after. A push killed in between leaves ``pending`` rows, which
    ``wix_rollback`` treats as possibly applied (it re-reads Wix before undoing anything)."""

    def __init__(self, engine: Engine, run_id: str) -> None:
        self.engine, self.run_id = engine, run_id

    def exclusive(self):
        """The store's write lock: the hourly push, a rollback and every fast-path run write in turn."""
        return named_lock(self.engine, "wix:writes", WRITE_LOCK_SECONDS)

    def intend(self, batch: list[tuple[WixItem, int]]) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                insert(wix_push_log),
                [
                    {
                        "run_id": self.run_id,
                        "sku": item.sku,
                        "product_id": item.product_id,
                        "variant_id": item.variant_id,
                        "before_quantity": item.quantity,
                        "target_quantity": target,
                        "delta": target - item.quantity,
                        "status": "pending",
                        "pushed_at": now,
                    }
                    for item, target in batch
                ],
            )

    def settle(self, written: list[Written]) -> None:
        """One batch's outcome: its pending rows updated in one statement, the rows it never had to
        write (Wix already held the target when re-read) added in another."""
        if not written:
            return
        log, now = wix_push_log, utcnow()
        rows = [
            {
                "b_sku": w.item.sku,
                "product_id": w.item.product_id,
                "variant_id": w.item.variant_id,
                "before_quantity": w.item.quantity,
                "target_quantity": w.target,
                "delta": w.delta,
                "status": w.status,
                "error": (w.error or None) and w.error[:2000],
                "pushed_at": now,
            }
            for w in written
        ]
        with self.engine.begin() as conn:
            pending = set(
                conn.execute(
                    select(log.c.sku).where(
                        log.c.run_id == self.run_id,
                        log.c.status == "pending",
                        log.c.sku.in_([r["b_sku"] for r in rows]),
                    )
                ).scalars()
            )
            settled = [r for r in rows if r["b_sku"] in pending]
            if settled:
                conn.execute(
                    update(log)
                    .where(log.c.run_id == self.run_id, log.c.sku == bindparam("b_sku"), log.c.status == "pending")
                    .values({c: bindparam(c) for c in SETTLED}),
                    settled,
                )
            fresh = [{**r, "sku": r["b_sku"], "run_id": self.run_id} for r in rows if r["b_sku"] not in pending]
            if fresh:
                conn.execute(insert(log), [{k: v for k, v in r.items() if k != "b_sku"} for r in fresh])


def pushed_changes(engine: Engine, run_id: str) -> list:
    """The Wix writes one run made or may have made: ``pending`` rows were written to Wix or not when
    the run died, so whoever undoes them re-reads Wix first."""
    log = wix_push_log
    with engine.connect() as conn:
        return conn.execute(select(log).where(log.c.run_id == run_id, log.c.status.in_(("applied", "pending")))).all()


def rewritten_since(engine: Engine, run_id: str, skus: list[str]) -> set[str]:
    """Of ``skus``, those another run wrote (or may have written) after ``run_id`` did."""
    log = wix_push_log
    with engine.connect() as conn:
        last = conn.execute(select(func.max(log.c.id)).where(log.c.run_id == run_id)).scalar()
        if last is None:
            return set()
        found: set[str] = set()
        for start in range(0, len(skus), 500):
            found |= set(
                conn.execute(
                    select(log.c.sku).where(
                        log.c.id > last,  # logged after this run's last write
                        log.c.run_id != run_id,
                        log.c.status.in_(("applied", "pending")),
                        log.c.sku.in_(skus[start : start + 500]),
                    )
                ).scalars()
            )
    return found


def push_key(engine: Engine, run_id: str) -> str | None:
    """How a push is listed for the rollback to pick: its first write's time and its run; None when
    it wrote nothing."""
    log = wix_push_log
    with engine.connect() as conn:
        first = conn.execute(select(func.min(log.c.pushed_at)).where(log.c.run_id == run_id)).scalar()
    return f"{first:%Y-%m-%d %H:%M} UTC · run {run_id}" if first else None


def run_of(key: str) -> str:
    """The run a push's listed key names."""
    return key.rsplit(" ", 1)[-1]
