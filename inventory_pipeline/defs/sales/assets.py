"""Sales per marketplace and day (group ``sales``), their analysis, and each product's status."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    MultiPartitionsDefinition,
    asset,
)

from inventory_pipeline import sync_log
from inventory_pipeline.assets.metadata import money, money_text, table
from inventory_pipeline.assets.partitions import account_partitions
from inventory_pipeline.clock import MARKETPLACE_ZONE, day_bounds, marketplace_today, utcnow
from inventory_pipeline.defs.sales import store
from inventory_pipeline.defs.sales.rules import (
    StatusRules,
    analyse,
    in_stock_days,
    ozon_return_rows,
    ozon_rows,
    status_changes,
    wb_rows,
)
from inventory_pipeline.defs.stock import wb_sku
from inventory_pipeline.resources import client_key
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.settings import Settings


def sales_partitions(settings: Settings) -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition(
        {
            # Marketplace days (Moscow), whatever zone the schedules run in; today's partial day too.
            "date": DailyPartitionsDefinition(
                start_date=settings.sales_start_date, timezone=MARKETPLACE_ZONE.key, end_offset=1
            ),
            "account": account_partitions(settings),
        }
    )


def history_note(first_seen, first_day: date, last_day: date, never: int, skus: int) -> dict:
    """Days in stock come from the ledger's history: when it is younger than the period, a SKU's days
    before it are unknown, not days out of stock. Say so beside the count."""
    if first_seen is None or pd.isna(first_seen):
        return {}
    began = pd.Timestamp(first_seen).date()
    if began <= first_day:
        return {}
    known = max(0, (last_day - began).days + 1)
    return {
        "history_note": MetadataValue.text(
            f"the ledger's history began {began} ({known} of the period's {(last_day - first_day).days + 1} days): "
            f"days in stock before it are unknown, so never_in_stock ({never} of {skus}) counts SKUs not in stock "
            "in those days only"
        )
    }


def _summary(rows: list[dict]) -> dict:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return {"rows": 0, "orders": 0, "cancelled": 0, "returns": 0}
    return {
        "rows": len(frame),
        "orders": int(((frame.kind == "order") & ~frame.cancelled).sum()),
        "cancelled": int(frame.cancelled.sum()),
        "returns": int((frame.kind == "return").sum()),
        "revenue": money(float(frame.loc[(frame.kind == "order") & ~frame.cancelled, "amount"].sum())),
    }


@dataclass
class SalesCounts:
    """What a sales day's sync stored, for its sync_logs row."""

    succeeded: int = 0
    failed: list[str] = field(default_factory=list)


class AnalysisConfig(Config):
    period_days: int = 0
    """Days up to yesterday; 0 uses ANALYSIS_PERIOD_DAYS (30)."""


WHAT_IS_SOLD = {"ozon": "Ozon postings (FBO and FBS) and returns", "wb": "Wildberries orders, sales and returns"}


def build_sales_assets(settings: Settings) -> list[AssetsDefinition]:
    partitions = sales_partitions(settings)

    def build(source: str, accounts: list[str]):
        @asset(
            name=f"{source}_sales",
            group_name="sales",
            partitions_def=partitions,
            tags={"source": source},
            required_resource_keys={"database", *(client_key(source, a) for a in accounts)},
            kinds={"api"},
            description=f"{WHAT_IS_SOLD[source]} of one Moscow day and seller account; re-running a day "
            "replaces that day exactly.",
        )
        def _sales(context: AssetExecutionContext) -> MaterializeResult:
            # A run launched from the CLI carries the key as plain text ("main|2026-11-20").
            keys = partitions.get_partition_key_from_str(str(context.partition_key)).keys_by_dimension
            day, account = date.fromisoformat(keys["date"]), keys["account"]
            if account not in accounts:
                return MaterializeResult(metadata={"configured": False})
            api = getattr(context.resources, client_key(source, account))
            engine, counts = context.resources.database.engine, SalesCounts()
            with sync_log.logged(engine, context.instance, source, account, context.run_id, "sales", counts):
                if source == "ozon":
                    start, end = day_bounds(day)
                    since, to = start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z")
                    rows = [
                        r
                        for scheme in ("fbo", "fbs")
                        for r in ozon_rows(list(api.postings(scheme, since, to)), scheme, account, day)
                    ]
                    rows += ozon_return_rows(list(api.returns(since, to)), account, day)
                else:
                    rows = wb_rows(
                        api.statistics_day("orders", day.isoformat()),
                        api.statistics_day("sales", day.isoformat()),
                        account,
                        day,
                        wb_sku.load(settings.wb_sku_rule, settings.wb_sku_separator, settings.wb_sku_map_file),
                    )
                counts.succeeded = store.replace_day(engine, source, account, day, rows)
            return MaterializeResult(
                metadata={**_summary(rows), "stored": counts.succeeded, "dagster/row_count": counts.succeeded}
            )

        return _sales

    ozon, wb = build("ozon", settings.ozon_accounts), build("wb", settings.wb_accounts)

    @asset(
        name="sales_analysis",
        group_name="sales",
        deps=[ozon, wb, "inventory_data"],
        kinds={"pandas"},
        description="Per SKU over the period: units and revenue, days in stock, average daily units on in-stock "
        "days, and the 'theoretical' units had it been in stock every day.",
    )
    def sales_analysis_asset(
        context: AssetExecutionContext, config: AnalysisConfig, database: InventoryDatabase
    ) -> MaterializeResult:
        engine = database.engine
        period = config.period_days or settings.analysis_period_days
        end = marketplace_today() - timedelta(days=1)
        days = [end - timedelta(days=n) for n in range(period - 1, -1, -1)]
        sold, current, history = store.analysis_inputs(
            engine, days[0], end, day_bounds(days[0])[0].replace(tzinfo=None)
        )
        if current.empty:
            return MaterializeResult(metadata={"skus": 0, "note": "the ledger is empty"})
        result = analyse(sold, in_stock_days(current, history, days), days)
        store.save_analysis(engine, result, {"computed_at": utcnow(), "period_start": days[0], "period_end": end})
        top = result.sort_values("units", ascending=False).head(20)
        top = top.assign(revenue=top["revenue"].map(money_text))
        never = int((result["days_in_stock"] == 0).sum())
        return MaterializeResult(
            metadata={
                "period": f"{days[0]} .. {end}",
                "skus": len(result),
                "units": int(result["units"].sum()),
                "revenue": money(float(result["revenue"].sum())),
                "never_in_stock": never,
                **history_note(current["first_seen_at"].min(), days[0], end, never, len(result)),
                "top_skus": table(top, empty="_no sales_", total=len(result)),
            }
        )

    @asset(
        name="product_status",
        group_name="sales",
        deps=[ozon, wb, "inventory_data"],
        description="Each SKU's status per seller account (absolute_new, new, ordinary) from when it was "
        "first seen and first ordered; every change is kept with its date.",
    )
    def product_status_asset(context: AssetExecutionContext, database: InventoryDatabase) -> MaterializeResult:
        engine, now = database.engine, utcnow()
        rules = StatusRules(settings.absolute_new_days, settings.new_product_days)
        changes = status_changes(*store.status_inputs(engine), now, rules)
        counts = store.save_status_changes(engine, changes, now)
        return MaterializeResult(
            metadata={"changed": len(changes), **{s: counts.get(s, 0) for s in ("absolute_new", "new", "ordinary")}}
        )

    return [ozon, wb, sales_analysis_asset, product_status_asset]
