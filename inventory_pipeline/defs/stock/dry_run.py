"""The dry run (the old service's --test-mode): fetch and normalize like a sync, report what would change,
write nothing."""

from dagster import Config, Failure, OpExecutionContext, Output, op

from inventory_pipeline.defs.stock import ledger, wb_sku
from inventory_pipeline.defs.stock.fetch import FETCHERS, ledger_view
from inventory_pipeline.resources import client_key
from inventory_pipeline.resources.pages import RawPage
from inventory_pipeline.settings import Settings


class _Collector:
    """Stands in for the snapshot writer in a dry run: the normalized rows stay in memory, nothing
    is stored."""

    def __init__(self) -> None:
        self.rows: list[list[dict]] = []

    def add(self, page: RawPage) -> None:
        pass

    def add_rows(self, rows: list[dict]) -> None:
        self.rows.append(rows)


class DryRunConfig(Config):
    account: str = "main"
    sources: list[str] = ["ozon", "wb"]


def build_dry_run_op(settings: Settings):
    keys = {client_key("ozon", a) for a in settings.ozon_accounts} | {client_key("wb", a) for a in settings.wb_accounts}

    @op(required_resource_keys={"database", *keys})
    def preview_stock_sync(context: OpExecutionContext, config: DryRunConfig) -> Output[dict]:
        """Fetch and normalize like a real sync and report what would change; write nothing."""
        engine = context.resources.database.engine
        report: dict[str, dict] = {}
        for source in config.sources:
            key = client_key(source, config.account)
            if key not in keys:
                raise Failure(f"no {source} account '{config.account}' is configured")
            collector = _Collector()
            rule = wb_sku.load(settings.wb_sku_rule, settings.wb_sku_separator, settings.wb_sku_map_file)
            tally = FETCHERS[source](
                getattr(context.resources, key),
                collector,
                config.account,
                ledger_view(engine, source, config.account, rule),
            )
            result = ledger.preview(engine, source, config.account, collector.rows)
            report[source] = {
                "incomplete_answers": len(tally.problems),
                "new": result.new,
                "changed": result.changed,
                "unchanged": result.unchanged,
                "zeroed": result.zeroed,
            }
            context.log.info(f"dry run {source}/{config.account}: {report[source]}; sample {result.sample[:5]}")
        metadata = {f"{s}_{k}": v for s, figures in report.items() for k, v in figures.items()}
        return Output(report, metadata=metadata)

    return preview_stock_sync
