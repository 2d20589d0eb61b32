"""Stock events after every ledger sync (group ``monitoring``): LowOnStock, StockFBOOver and
StockFBOReceived per SKU, account and stock type, stored and sent at most once per 15 hours."""

from datetime import timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    StaticPartitionsDefinition,
    asset,
)

from inventory_pipeline.assets.metadata import table
from inventory_pipeline.clock import marketplace_today, utcnow
from inventory_pipeline.defs.monitoring import store
from inventory_pipeline.defs.monitoring.anomalies import AnomalyRules, detect
from inventory_pipeline.defs.monitoring.events import emit
from inventory_pipeline.defs.monitoring.stock_alerts import fbo_events, low_stock_events
from inventory_pipeline.defs.sales.rules import CoverRules
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.settings import Settings


def build_events_asset(settings: Settings, partitions: StaticPartitionsDefinition) -> AssetsDefinition:
    cover = CoverRules((("ordinary", settings.low_stock_days_ordinary), ("new", settings.low_stock_days_new)))

    @asset(
        name="stock_events",
        group_name="monitoring",
        partitions_def=partitions,
        deps=["inventory_data"],
        description="Stock events of one seller account after a ledger sync: LowOnStock by days of cover, "
        "StockFBOOver / StockFBOReceived when marketplace-warehouse stock crosses FBO_THRESHOLD. "
        "Stored in notifications, sent at most once per 15 h per SKU and type.",
    )
    def stock_events(
        context: AssetExecutionContext, database: InventoryDatabase, notifier: NotifierResource
    ) -> MaterializeResult:
        engine, account, now = database.engine, context.partition_key, utcnow()
        movements = store.fbo_movements(engine, account)
        found = fbo_events(account, *movements, settings.fbo_threshold) if movements else []
        # The last SALES_WINDOW_DAYS whole days: today's orders so far would make a fifteenth day
        # divided by fourteen.
        today = marketplace_today()
        window = store.cover_inputs(engine, account, today - timedelta(days=settings.sales_window_days), today)
        found += low_stock_events(account, *window, settings.sales_window_days, cover)
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


def build_anomalies_asset(settings: Settings, partitions: StaticPartitionsDefinition) -> AssetsDefinition:
    rules = AnomalyRules(
        settings.max_stock_value, settings.anomaly_threshold, settings.anomaly_min_units, settings.max_sync_age_hours
    )

    @asset(
        name="stock_anomalies",
        group_name="monitoring",
        partitions_def=partitions,
        deps=["inventory_data"],
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
        current, changes = store.anomaly_inputs(engine, account, now, rules)
        found = detect(current, changes, now, rules)
        store.save_anomalies(engine, found, context.run_id, now)
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
        return MaterializeResult(
            metadata={
                "anomalies": total,
                **{f"rule_{k}": int(v) for k, v in counts.items()},
                "preview": table(found.head(30)),
                "dagster/row_count": total,
            },
            check_results=[check],
        )

    return stock_anomalies
