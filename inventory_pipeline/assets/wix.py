"""The Wix store's stock (group ``wix``): a plan of what must change, then the checked push."""

import time
from datetime import timedelta

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from sqlalchemy import Engine, bindparam, insert, select, update

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.tables import inventory_data, wix_plan_items, wix_plans, wix_push_log
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.resources.wix import WixItem, WixStoresResource
from inventory_pipeline.settings import Settings
from inventory_pipeline.wix_plan import Plan, PlanItem, TargetRules, guard, plan, targets
from inventory_pipeline.wix_push import Written, push, verify

PLAN_MAX_AGE = timedelta(hours=1)


class WixPushConfig(Config):
    confirm_large_change: bool = False
    """Push even if the plan empties many SKUs or moves total stock far (a deliberate full resync)."""


def target_rules(settings: Settings) -> TargetRules:
    return TargetRules(
        stock_types=settings.wix_stock_types,
        warehouse_map=settings.wix_warehouse_map,
        buffer=settings.wix_buffer,
        sku_buffers=settings.wix_sku_buffers,
        cap=settings.wix_cap,
    )


def ledger_frame(engine: Engine) -> pd.DataFrame:
    d = inventory_data
    query = select(d.c.source, d.c.account, d.c.sku, d.c.warehouse_id, d.c.stock_type, d.c.available_stock)
    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).all(),
            columns=["source", "account", "sku", "warehouse_id", "stock_type", "available_stock"],
        )


def _table(rows: list[dict], columns: list[str]) -> MetadataValue:
    if not rows:
        return MetadataValue.md("_nothing_")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    return MetadataValue.md("\n".join(lines))


def store_plan(engine: Engine, run_id: str, version: str, planned: Plan, total: int) -> int:
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


def load_plan(engine: Engine, plan_id: int) -> tuple[dict, list[PlanItem]]:
    with engine.connect() as conn:
        header = conn.execute(select(wix_plans).where(wix_plans.c.id == plan_id)).one()._asdict()
        rows = conn.execute(select(wix_plan_items).where(wix_plan_items.c.plan_id == plan_id)).all()
    return header, [
        PlanItem(
            WixItem(r.sku, r.product_id, r.variant_id, r.inventory_item_id, r.current_quantity, r.revision),
            r.target_quantity,
        )
        for r in rows
    ]


SETTLED = ("before_quantity", "target_quantity", "delta", "status", "error", "pushed_at")


class PushJournal:
    """``wix_push_log`` written batch by batch: ``pending`` rows committed before Wix is written,
    settled to ``applied``/``failed`` after. A push killed in between leaves ``pending`` rows, which
    ``wix_rollback`` treats as possibly applied (it re-reads Wix before undoing anything)."""

    def __init__(self, engine: Engine, run_id: str) -> None:
        self.engine, self.run_id = engine, run_id

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


def build_wix_assets(settings: Settings, ledger: AssetsDefinition) -> dict[str, AssetsDefinition]:
    rules = target_rules(settings)

    @asset(
        name="wix_stock_plan",
        group_name="wix",
        deps=[ledger],
        pool="wix_api",
        kinds={"wix"},
        description="What the Wix store should show per seller SKU, what it shows now, and what must change. "
        "Built from the ledger; writes nothing to Wix (run it alone as the dry run).",
    )
    def wix_stock_plan(
        context: AssetExecutionContext, database: InventoryDatabase, wix: WixStoresResource
    ) -> MaterializeResult:
        engine = database.engine
        wanted = targets(ledger_frame(engine), rules)
        version = wix.catalog_version()
        planned = plan(wanted, wix.items(version))
        plan_id = store_plan(engine, context.run_id, version, planned, len(wanted))
        for sku in planned.duplicates:
            context.log.warning(f"{sku} is on more than one Wix variant: left untouched")
        changes = planned.changes
        return MaterializeResult(
            metadata={
                "plan_id": plan_id,
                "catalog_version": version,
                "total_products": len(wanted),
                "found_in_wix": len(planned.items),
                "updates_prepared": len(changes),
                "not_found_in_wix": len(planned.not_found),
                "unknown_in_wix": len(planned.unknown),
                "ambiguous_in_wix": len(planned.duplicates),
                "read_calls": wix.calls,
                "set_to_zero": sum(1 for p in changes if p.target == 0),
                "preview": _table(
                    [
                        {"sku": p.item.sku, "current": p.item.quantity, "target": p.target, "delta": p.delta}
                        for p in changes[:25]
                    ],
                    ["sku", "current", "target", "delta"],
                ),
                "not_found_preview": MetadataValue.text(", ".join(planned.not_found[:30])),
                "unknown_in_wix_preview": MetadataValue.text(", ".join(planned.unknown[:30])),
            },
        )

    @asset(
        name="wix_stock_push",
        group_name="wix",
        deps=["wix_stock_plan"],  # read from wix_plans, not passed through an IO manager: runs may span machines
        pool="wix_api",
        kinds={"wix"},
        description="The Wix store's quantities set to the plan's targets, read back and "
        "verified; every write is in wix_push_log.",
    )
    def wix_stock_push(
        context: AssetExecutionContext,
        config: WixPushConfig,
        database: InventoryDatabase,
        wix: WixStoresResource,
        notifier: NotifierResource,
    ) -> MaterializeResult:
        engine = database.engine
        started = time.monotonic()
        plan_id = plan_to_push(engine, context.run_id)
        if plan_id is None:
            raise Failure("no Wix plan to push: materialize wix_stock_plan first (or both together)")
        header, items = load_plan(engine, plan_id)
        if utcnow() - header["created_at"] > PLAN_MAX_AGE:
            raise Failure(
                f"Wix plan {plan_id} is from {header['created_at']:%Y-%m-%d %H:%M} UTC, older than "
                f"{PLAN_MAX_AGE}: materialize wix_stock_plan and wix_stock_push together."
            )
        planned = Plan(items=items, not_found=[], unknown=[], duplicates=[])
        verdict = guard(planned, settings.wix_max_zero_share, settings.wix_max_total_change)
        if not verdict.passed and not config.confirm_large_change:
            context.log.error(f"Wix push stopped: {verdict.description}")
            delivery = notifier.send(
                "Wix push stopped by its guard",
                verdict.description,
                {"event": "WixPushStopped", "run_id": context.run_id, **verdict.metadata},
            )
            raise Failure(
                description=f"Wix push stopped: {verdict.description}",
                metadata={**verdict.metadata, "alerted": ", ".join(delivery.delivered) or "log only"},
            )
        version = header["catalog_version"]
        outcome = push(wix, version, planned.changes, PushJournal(engine, context.run_id))
        mismatched = verify(wix, version, outcome.applied)
        metadata = {
            "updated_in_wix": len(outcome.applied) - len(mismatched),
            "errors": len(outcome.failed) + len(mismatched),
            "updates_prepared": len(planned.changes),
            "updates_executed": len(outcome.applied),
            "replans_after_stale_revision": outcome.replans,
            "verified": not mismatched and not outcome.failed,
            "api_calls": wix.calls,
            "duration_seconds": round(time.monotonic() - started, 2),
            "guard": verdict.description,
            "catalog_version": version,
            "plan_id": plan_id,
        }
        if outcome.failed or mismatched:
            failed = [w.item.sku for w in outcome.failed] + mismatched
            raise Failure(
                description=f"Wix push incomplete: {len(failed)} SKUs not at target "
                f"({', '.join(failed[:10])}); see wix_push_log. A re-run converges.",
                metadata=metadata,
            )
        return MaterializeResult(metadata=metadata)

    return {"wix_stock_plan": wix_stock_plan, "wix_stock_push": wix_stock_push}
