"""Stock events after every ledger sync (group ``monitoring``): LowOnStock, StockFBOOver and
StockFBOReceived per SKU, account and stock type, stored and sent at most once per 15 hours."""

from datetime import timedelta

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    StaticPartitionsDefinition,
    asset,
)
from sqlalchemy import Engine

from inventory_pipeline.assets.metadata import table
from inventory_pipeline.assets.partitions import account_check
from inventory_pipeline.clock import marketplace_today, utcnow
from inventory_pipeline.defs.monitoring import store
from inventory_pipeline.defs.monitoring.anomalies import AnomalyRules, detect, judge, units_moved
from inventory_pipeline.defs.monitoring.events import StockEvent, emit
from inventory_pipeline.defs.monitoring.stock_alerts import fbo_events, low_stock_events
from inventory_pipeline.defs.sales.rules import CoverRules
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.settings import Settings

SHOWN = 30
LOW_COLUMNS = ["sku", "source", "stock", "available_units", "daily_sales", "days_of_cover", "status", "this_run"]
FBO_COLUMNS = ["sku", "source", "event", "fbo_units_before", "fbo_units_now", "this_run"]


def _this_run(new: bool) -> str:
    return "new" if new else "within 15 h of the last"


def event_row(found: StockEvent, new: bool, /, **about: str) -> dict:
    """One event as its table shows it; ``about`` names what it is about (its stock type, its kind)."""
    return {"sku": found.sku, "source": found.source, **about, **found.figures, "this_run": _this_run(new)}


def evaluate_events(
    engine: Engine,
    notifier: NotifierResource,
    account: str,
    run_id: str,
    settings: Settings,
    skus: set[str] | None = None,
) -> tuple[list[StockEvent], set[str], int]:
    """One account's stock events since the last evaluation, raised: what was found, the keys raised
    now (not within 15 h of the last), and how many a channel delivered. Reads what changed since
    the last evaluation, so a sync and a fast-path run alike can afford it. ``skus`` (a fast-path
    run): only LowOnStock of those SKUs, the evaluation cursors left where they are, so that the
    sync's own evaluation still sees every change (also one whose transaction was open meanwhile)."""
    cover = CoverRules((("ordinary", settings.low_stock_days_ordinary), ("new", settings.low_stock_days_new)))
    now = utcnow()
    movements = store.fbo_movements(engine, account) if skus is None else None
    found = fbo_events(account, *movements, settings.fbo_threshold) if movements else []
    # The last SALES_WINDOW_DAYS whole days: today's orders so far would make a fifteenth day
    # divided by fourteen. Only the SKUs whose stock or sales changed since the last evaluation:
    # cover moves with nothing else.
    today = marketplace_today()
    since = today - timedelta(days=settings.sales_window_days)
    judged = store.changed_skus(engine, account) if skus is None else skus
    window = store.cover_inputs(engine, account, since, today, judged)
    found += low_stock_events(account, *window, settings.sales_window_days, cover)
    raised = {e.key: emit(engine, notifier, e, now, run_id, settings.ui_url) for e in found}
    new = {key for key, delivery in raised.items() if delivery is not None}
    sent = sum(1 for d in raised.values() if d is not None and d.delivered)
    return found, new, sent


def build_events_asset(settings: Settings, partitions: StaticPartitionsDefinition) -> AssetsDefinition:

    @asset(
        name="stock_events",
        group_name="monitoring",
        partitions_def=partitions,
        deps=["inventory_data"],
        description="Stock events of one seller account after a ledger sync: LowOnStock by days of cover "
        "(of the SKUs whose stock or sales changed since the last evaluation), "
        "StockFBOOver / StockFBOReceived when marketplace-warehouse stock crosses FBO_THRESHOLD. "
        "Stored in notifications, sent at most once per 15 h per SKU and type.",
    )
    def stock_events(
        context: AssetExecutionContext, database: InventoryDatabase, notifier: NotifierResource
    ) -> MaterializeResult:
        found, new, sent = evaluate_events(database.engine, notifier, context.partition_key, context.run_id, settings)
        by_type = {
            t: sum(1 for e in found if e.event_type == t) for t in ("LowOnStock", "StockFBOOver", "StockFBOReceived")
        }
        low = sorted(
            (e for e in found if e.event_type == "LowOnStock"), key=lambda e: (e.figures["days_of_cover"], e.sku)
        )
        fbo = sorted(
            (e for e in found if e.event_type != "LowOnStock"),
            key=lambda e: (-abs(e.figures["fbo_units_now"] - e.figures["fbo_units_before"]), e.sku),
        )
        return MaterializeResult(
            metadata={
                "events_found": len(found),
                # Without a channel, or when every channel failed, an event is recorded (notifications,
                # the log) but reaches nobody: counted apart from those a channel delivered.
                "sent": sent,
                "recorded_only": len(new) - sent,
                "suppressed_within_15h": len(found) - len(new),
                **by_type,
                "channels": ", ".join(notifier.channels)
                or "none: recorded in notifications and the log only (set SMTP_HOST with ALERT_EMAIL, "
                "TELEGRAM_BOT_TOKEN with TELEGRAM_CHAT_ID, or NOTIFY_WEBHOOK_URL to send)",
                "low_on_stock": table(
                    [event_row(e, e.key in new, stock=e.stock_type) for e in low[:SHOWN]],
                    LOW_COLUMNS,
                    "_no SKU is low on stock_",
                    len(low),
                ),
                "fbo_movements": table(
                    [event_row(e, e.key in new, event=e.event_type) for e in fbo[:SHOWN]],
                    FBO_COLUMNS,
                    "_no FBO threshold crossed_",
                    len(fbo),
                ),
            }
        )

    return stock_events


ANOMALY_COLUMNS = ["severity", "rule", "source", "sku", "warehouse_id", "stock_type", "detail"]


def build_anomalies_asset(settings: Settings, partitions: StaticPartitionsDefinition) -> AssetsDefinition:
    rules = AnomalyRules(
        settings.max_stock_value,
        settings.anomaly_threshold,
        settings.anomaly_min_units,
        settings.max_sync_age_hours,
        settings.anomaly_error_count,
        settings.anomaly_collapse_share,
    )

    @asset(
        name="stock_anomalies",
        group_name="monitoring",
        partitions_def=partitions,
        deps=["inventory_data"],
        check_specs=[
            account_check(
                "anomalies_within_limits",
                "stock_anomalies",
                partitions,
                "Passes on an ordinary sync (sales, delistings, restocks). WARN for oversold or "
                "stale rows; ERROR for negative or absurd stock, ANOMALY_ERROR_COUNT rows vanishing at once, "
                "or a source losing more than ANOMALY_COLLAPSE_SHARE of its units in one sync.",
            )
        ],
        description="What looks wrong in one account's ledger after a sync "
        "(the cron stock-sync service's anomaly queries), each finding with its severity: negative or absurd "
        "stock (error), oversold or stale rows (warn), large falls and vanished SKUs (listed). Restocks are "
        "not anomalies. Kept per run in stock_anomalies.",
    )
    def stock_anomalies(context: AssetExecutionContext, database: InventoryDatabase) -> MaterializeResult:
        engine, account, now = database.engine, context.partition_key, utcnow()
        since = store.last_judged(engine, account)
        current, changes = store.anomaly_inputs(engine, account, now, rules, context.run_id, since)
        found, result, severity = judge(
            detect(current, changes, now, rules), units_moved(changes), store.slice_units(engine, account), rules
        )
        store.save_anomalies(engine, found, context.run_id, now)
        by_rule = found["rule"].value_counts().to_dict() if not found.empty else {}
        return MaterializeResult(
            metadata={
                **result.metadata,
                **{f"rule_{k}": int(v) for k, v in by_rule.items()},
                "findings": table(found[ANOMALY_COLUMNS].head(30), total=len(found), empty="_nothing found_"),
                "dagster/row_count": len(found),
            },
            check_results=[result.result(severity)],
        )

    return stock_anomalies
