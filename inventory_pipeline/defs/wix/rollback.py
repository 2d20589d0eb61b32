"""Undo one push's Wix writes, picked from the list of recent pushes (the job's partitions): its own
change is taken back from what Wix holds now, so the sales made since stay counted; every SKU left
alone is listed with why."""

from dagster import DagsterInstance, DynamicPartitionsDefinition, Failure, OpExecutionContext, Output, op
from sqlalchemy import Engine

from inventory_pipeline.assets.metadata import table
from inventory_pipeline.defs.wix import store
from inventory_pipeline.defs.wix.plan import WixItem
from inventory_pipeline.defs.wix.push import push, verify
from inventory_pipeline.defs.wix.undo import Pushed, undo_plan

# Every push that wrote to Wix is listed here (by its first write's time and its run), newest last.
WIX_PUSHES = DynamicPartitionsDefinition(name="wix_pushes")
KEPT_PUSHES = 200


def list_push(instance: DagsterInstance, engine: Engine, run_id: str) -> None:
    """Make a push one the rollback can pick; the oldest drop off the list beyond ``KEPT_PUSHES``."""
    key = store.push_key(engine, run_id)
    if key is None:
        return
    instance.add_dynamic_partitions(WIX_PUSHES.name, [key])
    listed = instance.get_dynamic_partitions(WIX_PUSHES.name)
    if len(listed) > KEPT_PUSHES:
        for old in listed[: len(listed) - KEPT_PUSHES]:
            instance.delete_dynamic_partition(WIX_PUSHES.name, old)


@op(required_resource_keys={"database", "wix"})
def rollback_wix_push(context: OpExecutionContext) -> Output[dict]:
    """Take back the Wix changes of the push picked as this run's partition."""
    engine, wix = context.resources.database.engine, context.resources.wix
    run_id = store.run_of(context.partition_key)
    rows = store.pushed_changes(engine, run_id)
    if not rows:
        raise Failure(f"run {run_id} applied no Wix change to roll back (wix_push_log)")
    version = wix.catalog_version()
    known = [WixItem(r.sku, r.product_id, r.variant_id, "", r.target_quantity) for r in rows]
    current = wix.reread(version, known)
    pushed = [Pushed(r.sku, r.before_quantity, r.target_quantity, r.status) for r in rows]
    changes, alone = undo_plan(pushed, current, store.rewritten_since(engine, run_id, [r.sku for r in rows]))
    outcome = push(wix, version, changes, store.PushJournal(engine, context.run_id))
    mismatched = verify(wix, version, outcome.applied)
    list_push(context.instance, engine, context.run_id)  # a rollback is a push of its own: undoable in turn
    summary = {
        "restored": len(outcome.applied) - len(mismatched),
        "failed": len(outcome.failed) + len(mismatched),
        "left_alone": len(alone),
        "undone_run": run_id,
    }
    metadata = {
        **summary,
        "left_alone_skus": table(
            [{"sku": a.sku, "wix_now": a.wix_now, "why": a.why} for a in alone[:100]],
            ["sku", "wix_now", "why"],
            empty="_none: every write of the push was taken back_",
            total=len(alone),
        ),
    }
    if outcome.failed or mismatched:
        raise Failure(f"rollback of {run_id} incomplete: {summary}", metadata=metadata)
    return Output(summary, metadata=metadata)
