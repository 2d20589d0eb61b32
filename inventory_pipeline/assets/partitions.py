"""The seller-account partitions: stock, its monitoring and the sales assets are split by account."""

from dagster import StaticPartitionsDefinition

from inventory_pipeline.settings import Settings


def account_partitions(settings: Settings) -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition(settings.accounts)
