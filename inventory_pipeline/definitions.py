"""The one Definitions object of the code location: each domain's definitions, merged, with the
resources they share. It assembles; the logic lives in ``defs/<domain>/``."""

from __future__ import annotations

import warnings

from dagster import Definitions, PreviewWarning, multiprocess_executor

from inventory_pipeline import scheduling
from inventory_pipeline.assets.partitions import account_partitions
from inventory_pipeline.defs.monitoring import definitions as monitoring
from inventory_pipeline.defs.operations import definitions as operations
from inventory_pipeline.defs.sales import definitions as sales
from inventory_pipeline.defs.signals import definitions as signals
from inventory_pipeline.defs.stock import definitions as stock
from inventory_pipeline.defs.supplier import definitions as supplier
from inventory_pipeline.defs.wix import definitions as wix
from inventory_pipeline.resources import build_resources
from inventory_pipeline.settings import Settings, load_settings

# Each step in its own process (a sync's memory is its step's, and returned when it ends), forked from
# a server that imported the project once: a step starts in a fraction of a second instead of paying
# a fresh interpreter's imports (benchmarks.startup).
STEP_EXECUTOR = multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["inventory_pipeline.definitions"]}}},
    name="multiprocess_forkserver",
)


def build_definitions(settings: Settings) -> Definitions:
    accounts = account_partitions(settings)
    merged = Definitions.merge(
        stock.build_defs(settings, accounts),
        signals.build_defs(settings),
        monitoring.build_defs(settings, accounts),
        wix.build_defs(settings),
        sales.build_defs(settings),
        supplier.build_defs(settings),
        operations.build_defs(settings),
        Definitions(resources=build_resources(settings), executor=STEP_EXECUTOR),
    )
    scheduling.check_overrides(settings, list(merged.schedules or []))
    # Who answers for the assets (ASSET_OWNERS), shown on every asset's page; set once here. The
    # mapping is a Dagster preview, whose warning at every code load would tell the operator nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return merged.map_asset_specs(func=lambda spec: spec.replace_attributes(owners=settings.asset_owners))


defs = build_definitions(load_settings())
