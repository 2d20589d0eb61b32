"""The operations domain's SQL: what the health check reads of recent syncs."""

from datetime import datetime

from sqlalchemy import Engine, func, select

from inventory_pipeline.db.tables import inventory_data, inventory_synced, sync_logs, synced_at


def recent_syncs(engine: Engine, since: datetime) -> tuple[dict, int]:
    """The last successful (or partial) sync's start per source, and how many SKUs synced since ``since``."""
    with engine.connect() as conn:
        last = dict(
            conn.execute(
                select(sync_logs.c.source, func.max(sync_logs.c.started_at))
                .where(sync_logs.c.status.in_(("success", "partial")))
                .group_by(sync_logs.c.source)
            ).all()
        )
        recent = conn.execute(
            select(func.count(func.distinct(inventory_data.c.sku)))
            .select_from(inventory_synced)
            .where(synced_at > since)
        ).scalar_one()
    return last, recent
