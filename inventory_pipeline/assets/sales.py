"""Sales per marketplace and day (group ``sales``), their analysis, and each product's status."""

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
    StaticPartitionsDefinition,
    asset,
)
from sqlalchemy import Engine, delete, func, insert, select

from inventory_pipeline.assets.marketplaces import resource_key
from inventory_pipeline.clock import day_bounds, marketplace_today, utcnow
from inventory_pipeline.db.tables import (
    inventory_data,
    inventory_history,
    product_status,
    product_status_history,
    sales,
    sales_analysis,
)
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.sales import (
    StatusRules,
    analyse,
    classify,
    in_stock_days,
    ozon_rows,
    wb_rows,
)
from inventory_pipeline.settings import Settings


def sales_partitions(settings: Settings) -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition(
        {
            "date": DailyPartitionsDefinition(
                start_date=settings.sales_start_date, timezone=settings.timezone, end_offset=1
            ),  # today's partial day too
            "account": StaticPartitionsDefinition(settings.accounts),
        }
    )


def replace_day(engine: Engine, source: str, account: str, day: date, rows: list[dict]) -> int:
    """The day's rows exactly as the API reports them now: delete, then insert, in one transaction."""
    unique = list({(r["kind"], r["external_id"]): r for r in rows}.values())
    with engine.begin() as conn:
        conn.execute(
            delete(sales).where(sales.c.source == source, sales.c.account == account, sales.c.sale_date == day)
        )
        if unique:
            conn.execute(insert(sales), unique)
    return len(unique)


def _summary(rows: list[dict]) -> dict:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return {"rows": 0, "orders": 0, "cancelled": 0, "returns": 0}
    return {
        "rows": len(frame),
        "orders": int(((frame.kind == "order") & ~frame.cancelled).sum()),
        "cancelled": int(frame.cancelled.sum()),
        "returns": int((frame.kind == "return").sum()),
        "revenue": round(float(frame.loc[(frame.kind == "order") & ~frame.cancelled, "amount"].sum()), 2),
    }


class AnalysisConfig(Config):
    period_days: int = 0
    """Days up to yesterday; 0 uses ANALYSIS_PERIOD_DAYS (30)."""


def build_sales_assets(settings: Settings, ledger: AssetsDefinition) -> list[AssetsDefinition]:
    partitions = sales_partitions(settings)

    def build(source: str, accounts: list[str]):
        @asset(
            name=f"{source}_sales",
            group_name="sales",
            partitions_def=partitions,
            pool=f"{source}_api",
            required_resource_keys={"database", *(resource_key(source, a) for a in accounts)},
            kinds={"api"},
            description=f"{'Ozon postings (FBO and FBS)' if source == 'ozon' else 'Wildberries orders and sales'} "
            "of one Moscow day and seller account; re-running a day replaces that day exactly.",
        )
        def _sales(context: AssetExecutionContext) -> MaterializeResult:
            # A run launched from the CLI carries the key as plain text ("main|2026-11-20").
            keys = partitions.get_partition_key_from_str(str(context.partition_key)).keys_by_dimension
            day, account = date.fromisoformat(keys["date"]), keys["account"]
            if account not in accounts:
                return MaterializeResult(metadata={"configured": False})
            api = getattr(context.resources, resource_key(source, account))
            if source == "ozon":
                start, end = day_bounds(day)
                since, to = start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z")
                rows = [
                    r
                    for scheme in ("fbo", "fbs")
                    for r in ozon_rows(list(api.postings(scheme, since, to)), scheme, account, day)
                ]
            else:
                rows = wb_rows(
                    api.statistics_day("orders", day.isoformat()),
                    api.statistics_day("sales", day.isoformat()),
                    account,
                    day,
                )
            stored = replace_day(context.resources.database.engine, source, account, day, rows)
            return MaterializeResult(metadata={**_summary(rows), "stored": stored, "dagster/row_count": stored})

        return _sales

    ozon, wb = build("ozon", settings.ozon_accounts), build("wb", settings.wb_accounts)

    @asset(
        name="sales_analysis",
        group_name="sales",
        deps=[ozon, wb, ledger],
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
        with engine.connect() as conn:
            sold = pd.DataFrame(
                conn.execute(
                    select(
                        sales.c.source,
                        sales.c.account,
                        sales.c.sku,
                        sales.c.sale_date,
                        sales.c.kind,
                        sales.c.quantity,
                        sales.c.amount,
                        sales.c.cancelled,
                    ).where(sales.c.sale_date.between(days[0], end))
                )
                .mappings()
                .all()
            )
            current = pd.DataFrame(
                conn.execute(
                    select(
                        inventory_data.c.source,
                        inventory_data.c.account,
                        inventory_data.c.sku,
                        inventory_data.c.warehouse_id,
                        inventory_data.c.stock_type,
                        inventory_data.c.current_stock,
                        inventory_data.c.first_seen_at,
                    )
                )
                .mappings()
                .all()
            )
            history = pd.DataFrame(
                conn.execute(
                    select(
                        inventory_history.c.source,
                        inventory_history.c.account,
                        inventory_history.c.sku,
                        inventory_history.c.warehouse_id,
                        inventory_history.c.stock_type,
                        inventory_history.c.changed_at,
                        inventory_history.c.current_before,
                    ).where(inventory_history.c.changed_at >= day_bounds(days[0])[0].replace(tzinfo=None))
                )
                .mappings()
                .all()
            )
        if current.empty:
            return MaterializeResult(metadata={"skus": 0, "note": "the ledger is empty"})
        if history.empty:
            history = pd.DataFrame(columns=[*current.columns[:5], "changed_at", "current_before"])
        if sold.empty:
            sold = pd.DataFrame(
                columns=["source", "account", "sku", "sale_date", "kind", "quantity", "amount", "cancelled"]
            )
        result = analyse(sold, in_stock_days(current, history, days), days)
        now = utcnow()
        with engine.begin() as conn:
            if not result.empty:
                conn.execute(
                    insert(sales_analysis),
                    [
                        {**r, "computed_at": now, "period_start": days[0], "period_end": end}
                        for r in result.to_dict("records")
                    ],
                )
        top = result.sort_values("units", ascending=False).head(20)
        return MaterializeResult(
            metadata={
                "period": f"{days[0]} .. {end}",
                "skus": len(result),
                "units": int(result["units"].sum()),
                "revenue": round(float(result["revenue"].sum()), 2),
                "never_in_stock": int((result["days_in_stock"] == 0).sum()),
                "top_skus": MetadataValue.md(top.to_markdown(index=False) if not top.empty else "_no sales_"),
            }
        )

    @asset(
        name="product_status",
        group_name="sales",
        deps=[ozon, wb, ledger],
        description="Each SKU's status per seller account (absolute_new, new, ordinary) from when it was "
        "first seen and first ordered; every change is kept with its date.",
    )
    def product_status_asset(context: AssetExecutionContext, database: InventoryDatabase) -> MaterializeResult:
        engine, now = database.engine, utcnow()
        rules = StatusRules(settings.absolute_new_days, settings.new_product_days)
        with engine.connect() as conn:
            seen = {
                (r[0], r[1]): r[2]
                for r in conn.execute(
                    select(
                        inventory_data.c.account, inventory_data.c.sku, func.min(inventory_data.c.first_seen_at)
                    ).group_by(inventory_data.c.account, inventory_data.c.sku)
                )
            }
            ordered = {
                (r[0], r[1]): r[2]
                for r in conn.execute(
                    select(sales.c.account, sales.c.sku, func.min(sales.c.event_at))
                    .where(sales.c.kind == "order", sales.c.cancelled.is_(False))
                    .group_by(sales.c.account, sales.c.sku)
                )
            }
            known = {(r.account, r.sku): r.status for r in conn.execute(select(product_status))}
        changes = []
        for key in seen.keys() | ordered.keys():
            status = classify(seen.get(key), ordered.get(key), now, rules)
            if known.get(key) != status:
                changes.append((key, known.get(key), status))
        with engine.begin() as conn:
            for (account, sku), old, new in changes:
                if old is None:
                    conn.execute(insert(product_status).values(account=account, sku=sku, status=new, since=now))
                else:
                    conn.execute(
                        product_status.update()
                        .where(product_status.c.account == account, product_status.c.sku == sku)
                        .values(status=new, since=now)
                    )
                conn.execute(
                    insert(product_status_history).values(
                        account=account, sku=sku, old_status=old, new_status=new, changed_at=now
                    )
                )
        with engine.connect() as conn:
            counts = dict(
                conn.execute(select(product_status.c.status, func.count()).group_by(product_status.c.status)).all()
            )
        return MaterializeResult(
            metadata={"changed": len(changes), **{s: counts.get(s, 0) for s in ("absolute_new", "new", "ordinary")}}
        )

    return [ozon, wb, sales_analysis_asset, product_status_asset]
