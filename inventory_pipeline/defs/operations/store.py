"""The operations domain's SQL: what the health check reads of recent syncs."""

from datetime import datetime

from sqlalchemy import Engine, func, select

from inventory_pipeline.db.tables import inventory_data, inventory_synced, sync_logs, synced_at


def recent_syncs(engine: Engine, since: datetime) -> tuple[dict, int]:
    """The last successful (or partial) stock sync's start per (source, account), and how many SKUs
    synced since ``since``."""
    s = sync_logs
    with engine.connect() as conn:
        last = {
            (source, account): started
            for source, account, started in conn.execute(
                select(s.c.source, s.c.account, func.max(s.c.started_at))
                .where(s.c.status.in_(("success", "partial")), s.c.sync_type.in_(("stock", "full_resync")))
                .group_by(s.c.source, s.c.account)
            )
        }
        recent = conn.execute(
            select(func.count(func.distinct(inventory_data.c.sku)))
            .select_from(inventory_synced)
            .where(synced_at > since)
        ).scalar_one()
    return last, recent
