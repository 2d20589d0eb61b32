"""The seller-account partitions: stock, its monitoring and the sales assets are split by account."""

import warnings

from dagster import AssetCheckSpec, PreviewWarning, StaticPartitionsDefinition

from inventory_pipeline.settings import Settings


def account_partitions(settings: Settings) -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition(settings.accounts)


def account_check(
    name: str, asset: str, partitions: StaticPartitionsDefinition, description: str, blocking: bool = False
) -> AssetCheckSpec:
    """A check judged per seller account: each account's results are their own line in the UI, not
    one line across accounts. Partitioned checks are a Dagster preview; its warning at every code
    load would tell the operator nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return AssetCheckSpec(name, asset=asset, description=description, blocking=blocking, partitions_def=partitions)
