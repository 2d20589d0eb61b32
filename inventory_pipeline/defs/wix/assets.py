"""The Wix store's stock (group ``wix``): a plan of what must change, then the checked push."""

import time
from datetime import timedelta

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from inventory_pipeline.assets.metadata import ident, table
from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.wix import store
from inventory_pipeline.defs.wix.plan import Plan, PlanItem, TargetRules, guard, plan, targets
from inventory_pipeline.defs.wix.push import Written, push, verify
from inventory_pipeline.defs.wix.rollback import list_push
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.resources.wix import WixStoresResource
from inventory_pipeline.settings import Settings

PLAN_MAX_AGE = timedelta(hours=1)
SHOWN = 30
CHANGE_COLUMNS = ["sku", "wix_now", "target", "change"]  # a plan: what Wix holds now
PUSHED_COLUMNS = ["sku", "wix_before", "target", "change"]  # a push: what Wix held before it


def change_row(change: PlanItem | Written, columns: list[str] = CHANGE_COLUMNS) -> dict:
    sku, held, target, delta = columns
    return {sku: change.item.sku, held: change.item.quantity, target: change.target, delta: change.delta}


def largest(changes: list) -> list:
    """Largest moves first: what an operator checks before trusting a push."""
    return sorted(changes, key=lambda c: (-abs(c.delta), c.item.sku))


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


def build_wix_assets(settings: Settings) -> list[AssetsDefinition]:
    rules = target_rules(settings)

    @asset(
        name="wix_stock_plan",
        group_name="wix",
        deps=["inventory_data"],
        pool="wix_api",
        kinds={"wix"},
        tags={"source": "wix"},
        description="What the Wix store should show per seller SKU, what it shows now, and what must change. "
        "Built from the ledger; writes nothing to Wix (run it alone as the dry run).",
    )
    def wix_stock_plan(
        context: AssetExecutionContext, database: InventoryDatabase, wix: WixStoresResource
    ) -> MaterializeResult:
        engine = database.engine
        wanted = targets(store.ledger_frame(engine), rules)
        version = wix.catalog_version()
        planned = plan(wanted, wix.items(version))
        plan_id = store.save_plan(engine, context.run_id, version, planned, len(wanted))
        for sku in planned.duplicates:
            context.log.warning(f"{sku} is on more than one Wix variant: left untouched")
        changes = planned.changes
        zeroed = sorted((p for p in changes if p.target == 0), key=lambda p: (-p.item.quantity, p.item.sku))
        return MaterializeResult(
            metadata={
                "plan_id": ident(plan_id),
                "catalog_version": ident(version),
                "total_products": len(wanted),
                "found_in_wix": len(planned.items),
                "updates_prepared": len(changes),
                "not_found_in_wix": len(planned.not_found),
                "unknown_in_wix": len(planned.unknown),
                "ambiguous_in_wix": len(planned.duplicates),
                "read_calls": wix.calls,
                "set_to_zero": len(zeroed),
                "going_to_zero": table(
                    [change_row(p) for p in zeroed[:SHOWN]], CHANGE_COLUMNS, "_no SKU goes to zero_", len(zeroed)
                ),
                "largest_changes": table(
                    [change_row(p) for p in largest(changes)[:SHOWN]],
                    CHANGE_COLUMNS,
                    "_nothing to change_",
                    len(changes),
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
        tags={"source": "wix"},
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
        plan_id = store.plan_to_push(engine, context.run_id)
        if plan_id is None:
            raise Failure("no Wix plan to push: materialize wix_stock_plan first (or both together)")
        header, items = store.load_plan(engine, plan_id)
        if utcnow() - header["created_at"] > PLAN_MAX_AGE:
            raise Failure(
                f"Wix plan {plan_id} is from {header['created_at']:%Y-%m-%d %H:%M} UTC, older than "
                f"{PLAN_MAX_AGE}: materialize wix_stock_plan and wix_stock_push together."
            )
        # The targets again from the ledger as it is now: a fast-path run since the plan may have moved
        # a SKU (and written Wix), and the plan's older target must not put the old figure back.
        now_wanted = targets(store.ledger_frame(engine), rules)
        moved = [p for p in items if p.item.sku in now_wanted and now_wanted[p.item.sku] != p.target]
        items = [PlanItem(p.item, now_wanted.get(p.item.sku, p.target)) for p in items]
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
        try:
            outcome = push(wix, version, planned.changes, store.PushJournal(engine, context.run_id))
        finally:
            list_push(context.instance, engine, context.run_id)  # whatever it wrote, even half-way, can be undone
        mismatched = verify(wix, version, outcome.applied)
        metadata = {
            "updated_in_wix": len(outcome.applied) - len(mismatched),
            "errors": len(outcome.failed) + len(mismatched),
            "updates_prepared": len(planned.changes),
            "targets_moved_since_plan": len(moved),
            "updates_executed": len(outcome.applied),
            "replans_after_stale_revision": outcome.replans,
            "verified": not mismatched and not outcome.failed,
            "api_calls": wix.calls,
            "duration_seconds": round(time.monotonic() - started, 2),
            "guard": verdict.description,
            "catalog_version": ident(version),
            "plan_id": ident(plan_id),
            "changed": table(
                [change_row(w, PUSHED_COLUMNS) for w in largest(outcome.applied)[:SHOWN]],
                PUSHED_COLUMNS,
                "_nothing changed_",
                len(outcome.applied),
            ),
        }
        if outcome.failed or mismatched:
            not_at_target = [
                {"sku": w.item.sku, "wix_before": w.item.quantity, "target": w.target, "why": w.error or ""}
                for w in outcome.failed
            ] + [
                {"sku": sku, "wix_before": None, "target": None, "why": "read back not at target"} for sku in mismatched
            ]
            metadata["not_written"] = table(
                not_at_target[:50], ["sku", "wix_before", "target", "why"], total=len(not_at_target)
            )
        if outcome.failed or mismatched:
            failed = [w.item.sku for w in outcome.failed] + mismatched
            raise Failure(
                description=f"Wix push incomplete: {len(failed)} SKUs not at target "
                f"({', '.join(failed[:10])}); see wix_push_log. A re-run converges.",
                metadata=metadata,
            )
        return MaterializeResult(metadata=metadata)

    return [wix_stock_plan, wix_stock_push]
