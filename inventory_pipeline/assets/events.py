"""Stock events after every ledger sync (group ``monitoring``): LowOnStock, StockFBOOver and
StockFBOReceived per SKU, account and stock type, stored and sent at most once per 15 hours."""

from datetime import timedelta

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    asset,
)
from sqlalchemy import Engine, case, false, func, insert, or_, select, update

from inventory_pipeline.anomalies import KEY, AnomalyRules, detect
from inventory_pipeline.clock import marketplace_today, utcnow
from inventory_pipeline.db.tables import (
    event_cursors,
    inventory_data,
    inventory_history,
    inventory_synced,
    product_status,
    sales,
    synced_at,
)
from inventory_pipeline.db.tables import stock_anomalies as stock_anomalies_table
from inventory_pipeline.events import StockEvent, emit
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.sales import MARKETPLACE_WAREHOUSE_TYPES, CoverRules, fbo_event, low_on_stock
from inventory_pipeline.settings import Settings

STOCK_GROUP = {"fbo": "fbo", "fbw": "fbo", "fbs": "fbs", "rfbs": "fbs"}  # Ozon and WB names for the same idea


def _fbo_events(engine: Engine, account: str, threshold: int) -> list[StockEvent]:
    """Crossings of the FBO threshold since the last evaluation, from consecutive ledger states."""
    h, d = inventory_history, inventory_data
    name = f"fbo:{account}"
    with engine.begin() as conn:
        cursor = conn.execute(select(event_cursors.c.last_history_id).where(event_cursors.c.name == name)).scalar()
        newest = conn.execute(select(func.max(h.c.id))).scalar() or 0
        if cursor is None:  # first evaluation: today's state is the baseline
            conn.execute(insert(event_cursors).values(name=name, last_history_id=newest))
            return []
        moved = conn.execute(
            select(h.c.source, h.c.sku, func.sum(h.c.current_after - func.coalesce(h.c.current_before, 0)))
            .where(
                h.c.id > cursor,
                h.c.id <= newest,
                h.c.account == account,
                h.c.stock_type.in_(MARKETPLACE_WAREHOUSE_TYPES),
            )
            .group_by(h.c.source, h.c.sku)
        ).all()
        now_totals = {
            (r[0], r[1]): int(r[2] or 0)
            for r in conn.execute(
                select(d.c.source, d.c.sku, func.sum(d.c.current_stock))
                .where(
                    d.c.account == account,
                    d.c.stock_type.in_(MARKETPLACE_WAREHOUSE_TYPES),
                    d.c.sku.in_([m[1] for m in moved]) if moved else false(),
                )
                .group_by(d.c.source, d.c.sku)
            )
        }
        conn.execute(update(event_cursors).where(event_cursors.c.name == name).values(last_history_id=newest))
    events = []
    for source, sku, delta in moved:
        after = now_totals.get((source, sku), 0)
        kind = fbo_event(after - int(delta), after, threshold)
        if kind:
            events.append(
                StockEvent(
                    kind, source, account, sku, "fbo", {"fbo_units_before": after - int(delta), "fbo_units_now": after}
                )
            )
    return events


def _low_stock_events(engine: Engine, account: str, settings: Settings) -> list[StockEvent]:
    d, s = inventory_data, sales
    since = marketplace_today() - timedelta(days=settings.sales_window_days)
    group = case((d.c.stock_type.in_(("fbo", "fbw")), "fbo"), else_="fbs")
    sold_group = case((s.c.scheme.in_(("fbo", "fbw")), "fbo"), else_="fbs")
    with engine.connect() as conn:
        sold = {
            (r[0], r[1], r[2]): int(r[3] or 0)
            for r in conn.execute(
                select(s.c.source, s.c.sku, sold_group, func.sum(s.c.quantity))
                .where(s.c.account == account, s.c.sale_date >= since, s.c.kind == "order", s.c.cancelled.is_(False))
                .group_by(s.c.source, s.c.sku, sold_group)
            )
        }
        statuses = dict(
            conn.execute(
                select(product_status.c.sku, product_status.c.status).where(product_status.c.account == account)
            ).all()
        )
        # Without sales there is no cover figure and no alert: only SKUs that sold are looked up.
        skus = sorted({sku for _, sku, _ in sold})
        available = []
        for start in range(0, len(skus), 1000):
            available += conn.execute(
                select(d.c.source, d.c.sku, group, func.sum(d.c.available_stock))
                .where(
                    d.c.account == account,
                    d.c.stock_type.in_(tuple(STOCK_GROUP)),
                    d.c.sku.in_(skus[start : start + 1000]),
                )
                .group_by(d.c.source, d.c.sku, group)
            ).all()
    rules = CoverRules((("ordinary", settings.low_stock_days_ordinary), ("new", settings.low_stock_days_new)))
    events = []
    for source, sku, stock_group, units in available:
        per_day = sold.get((source, sku, stock_group), 0) / settings.sales_window_days
        status = statuses.get(sku, "ordinary")
        cover = low_on_stock(int(units or 0), per_day, status, rules)
        if cover is not None:
            events.append(
                StockEvent(
                    "LowOnStock",
                    source,
                    account,
                    sku,
                    stock_group,
                    {
                        "available_units": int(units or 0),
                        "days_of_cover": cover,
                        "status": status,
                        "daily_sales": round(per_day, 2),
                    },
                )
            )
    return events


def build_events_asset(
    settings: Settings, partitions: StaticPartitionsDefinition, ledger: AssetsDefinition
) -> AssetsDefinition:
    @asset(
        name="stock_events",
        group_name="monitoring",
        partitions_def=partitions,
        deps=[ledger],
        description="Stock events of one seller account after a ledger sync: LowOnStock by days of cover, "
        "StockFBOOver / StockFBOReceived when marketplace-warehouse stock crosses FBO_THRESHOLD. "
        "Stored in notifications, sent at most once per 15 h per SKU and type.",
    )
    def stock_events(
        context: AssetExecutionContext, database: InventoryDatabase, notifier: NotifierResource
    ) -> MaterializeResult:
        engine, account, now = database.engine, context.partition_key, utcnow()
        found = _fbo_events(engine, account, settings.fbo_threshold) + _low_stock_events(engine, account, settings)
        sent = [e for e in found if emit(engine, notifier, e, now, context.run_id, settings.ui_url)]
        by_type = {
            t: sum(1 for e in sent if e.event_type == t) for t in ("LowOnStock", "StockFBOOver", "StockFBOReceived")
        }
        return MaterializeResult(
            metadata={
                "events_found": len(found),
                "sent": len(sent),
                "suppressed_within_15h": len(found) - len(sent),
                **by_type,
                "channels": ", ".join(notifier.channels) or "log and database only",
            }
        )

    return stock_events


def build_anomalies_asset(
    settings: Settings, partitions: StaticPartitionsDefinition, ledger: AssetsDefinition
) -> AssetsDefinition:
    rules = AnomalyRules(
        settings.max_stock_value, settings.anomaly_threshold, settings.anomaly_min_units, settings.max_sync_age_hours
    )

    @asset(
        name="stock_anomalies",
        group_name="monitoring",
        partitions_def=partitions,
        deps=[ledger],
        check_specs=[
            AssetCheckSpec(
                "anomalies_within_limits",
                asset="stock_anomalies",
                description="WARN for a few anomalies, ERROR from ANOMALY_ERROR_COUNT on.",
            )
        ],
        description="What looks wrong in one account's ledger after a sync "
        "(the cron stock-sync service's anomaly queries): "
        "negative or too large stock, jumps since the last snapshot, stale rows, vanished SKUs, "
        "reserved above present. Kept per run in stock_anomalies.",
    )
    def stock_anomalies(context: AssetExecutionContext, database: InventoryDatabase) -> MaterializeResult:
        engine, account, now = database.engine, context.partition_key, utcnow()
        d, h = inventory_data, inventory_history
        # Only rows some rule could flag leave the database: a million-row slice stays there.
        suspect = or_(
            d.c.current_stock < 0,
            d.c.reserved_stock < 0,
            d.c.current_stock > rules.max_stock,
            d.c.reserved_stock > d.c.current_stock,
            synced_at < now - timedelta(hours=rules.max_age_hours),
        )
        with engine.connect() as conn:
            current = pd.DataFrame(
                conn.execute(
                    select(
                        d.c.source,
                        d.c.account,
                        d.c.sku,
                        d.c.warehouse_id,
                        d.c.stock_type,
                        d.c.current_stock,
                        d.c.reserved_stock,
                        synced_at.label("last_sync_at"),
                    )
                    .select_from(inventory_synced)
                    .where(d.c.account == account, suspect)
                )
                .mappings()
                .all(),
                columns=[*KEY, "current_stock", "reserved_stock", "last_sync_at"],
            )
            latest = (
                select(h.c.source, func.max(h.c.changed_at).label("at"))
                .where(h.c.account == account)
                .group_by(h.c.source)
                .subquery()
            )
            changes = pd.DataFrame(
                conn.execute(
                    select(
                        h.c.source,
                        h.c.account,
                        h.c.sku,
                        h.c.warehouse_id,
                        h.c.stock_type,
                        h.c.current_before,
                        h.c.current_after,
                        h.c.change,
                    )
                    .join(latest, (latest.c.source == h.c.source) & (latest.c.at == h.c.changed_at))
                    .where(h.c.account == account)
                )
                .mappings()
                .all(),
                columns=[*KEY, "current_before", "current_after", "change"],
            )
        current["last_sync_at"] = pd.to_datetime(current["last_sync_at"])
        found = detect(current, changes, now, rules)
        if not found.empty:
            with engine.begin() as conn:
                conn.execute(
                    insert(stock_anomalies_table),
                    [
                        {**r, "run_id": context.run_id, "detected_at": now, "detail": str(r["detail"])[:255]}
                        for r in found.to_dict("records")
                    ],
                )
        counts = found["rule"].value_counts().to_dict() if not found.empty else {}
        total = len(found)
        severity = AssetCheckSeverity.ERROR if total >= settings.anomaly_error_count else AssetCheckSeverity.WARN
        check = AssetCheckResult(
            check_name="anomalies_within_limits",
            passed=total == 0,
            severity=severity,
            description=f"{total} anomalies ({', '.join(f'{k} {v}' for k, v in counts.items())})"
            if total
            else "no anomalies",
            metadata={"anomalies": total, **counts},
        )
        table = found.head(30)
        return MaterializeResult(
            metadata={
                "anomalies": total,
                **{f"rule_{k}": int(v) for k, v in counts.items()},
                "preview": MetadataValue.md(table.to_markdown(index=False) if total else "_none_"),
                "dagster/row_count": total,
            },
            check_results=[check],
        )

    return stock_anomalies
