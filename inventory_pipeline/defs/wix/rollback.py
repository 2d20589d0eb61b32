"""Undo one run's Wix writes: the quantities it changed are put back, read fresh before writing."""

from dagster import Config, Failure, OpExecutionContext, Output, op

from inventory_pipeline.defs.wix import store
from inventory_pipeline.defs.wix.plan import PlanItem, WixItem
from inventory_pipeline.defs.wix.push import push, verify


class WixRollbackConfig(Config):
    run_id: str
    """The run whose Wix writes to undo (see wix_push_log)."""


@op(required_resource_keys={"database", "wix"})
def rollback_wix_push(context: OpExecutionContext, config: WixRollbackConfig) -> Output[dict]:
    """Put back the quantities a chosen run changed in Wix, read fresh before writing."""
    engine = context.resources.database.engine
    wix = context.resources.wix
    rows = store.pushed_changes(engine, config.run_id)
    if not rows:
        raise Failure(f"run {config.run_id} applied no Wix change to roll back (wix_push_log)")
    version = wix.catalog_version()
    known = [WixItem(r.sku, r.product_id, r.variant_id, "", r.target_quantity) for r in rows]
    current = wix.reread(version, known)
    changes = [PlanItem(current[r.sku], r.before_quantity) for r in rows if r.sku in current]
    outcome = push(wix, version, [c for c in changes if c.delta], store.PushJournal(engine, context.run_id))
    mismatched = verify(wix, version, outcome.applied)
    summary = {
        "restored": len(outcome.applied) - len(mismatched),
        "failed": len(outcome.failed) + len(mismatched),
        "missing_in_wix": len(rows) - len(current),
    }
    if outcome.failed or mismatched:
        raise Failure(f"rollback of {config.run_id} incomplete: {summary}", metadata=summary)
    return Output(summary, metadata=summary)
