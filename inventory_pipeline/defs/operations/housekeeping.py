"""The daily backup (7 days kept) and history retention."""

from datetime import UTC, datetime
from pathlib import Path

from dagster import OpDefinition, OpExecutionContext, Output, op

from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.operations.backup import apply_retention, backup, prune_backups
from inventory_pipeline.defs.signals import queue as signals_queue
from inventory_pipeline.settings import Settings


def build_housekeeping_ops(settings: Settings) -> tuple[OpDefinition, OpDefinition]:
    @op(required_resource_keys={"database"})
    def back_up_inventory(context: OpExecutionContext) -> Output[str]:
        """A dated, compressed copy of the inventory database; copies older than BACKUP_KEEP_DAYS go."""
        now = datetime.now(UTC)
        path = backup(context.resources.database.engine, Path(settings.backup_dir), now)
        removed = prune_backups(Path(settings.backup_dir), settings.backup_keep_days, now)
        return Output(
            str(path),
            metadata={"backup": str(path), "size_bytes": path.stat().st_size, "old_backups_removed": len(removed)},
        )

    @op(required_resource_keys={"database"})
    def apply_history_retention(context: OpExecutionContext) -> Output[dict]:
        """History, logs, notifications and old snapshots beyond their retention are deleted, and the
        fast path's settled signals after a week."""
        engine, now = context.resources.database.engine, utcnow()
        removed = apply_retention(engine, now, settings.history_retention_days, settings.snapshot_retention_days)
        removed["stock_signals"] = signals_queue.forget(engine, now)
        return Output(removed, metadata={k: int(v) for k, v in removed.items()})

    return back_up_inventory, apply_history_retention
