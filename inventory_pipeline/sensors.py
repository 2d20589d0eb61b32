"""Sensors: ledger freshness per source, evaluated without launching runs."""

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetKey,
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from inventory_pipeline import checks, ledger
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.settings import Settings
from inventory_pipeline.sync_log import utcnow

FRESHNESS_INTERVAL_SECONDS = 900


def build_freshness_sensor(settings: Settings) -> SensorDefinition:
    sources = {"ozon": settings.ozon_accounts, "wb": settings.wb_accounts}

    @sensor(
        name="ledger_freshness",
        minimum_interval_seconds=FRESHNESS_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description="Every 15 minutes: is each source of each account within MAX_SYNC_AGE_HOURS?",
    )
    def ledger_freshness(context: SensorEvaluationContext, database: InventoryDatabase) -> SensorResult:
        synced = ledger.freshness(database.engine)
        events = []
        for account in settings.accounts:
            verdict = checks.fresh(
                {s: synced.get((s, account)) for s, accounts in sources.items() if account in accounts},
                utcnow(),
                settings.max_sync_age_hours,
            )
            events.append(
                AssetCheckEvaluation(
                    asset_key=AssetKey("inventory_data"),
                    check_name=verdict.check,
                    passed=verdict.passed,
                    description=f"{account}: {verdict.description}",
                    metadata=verdict.metadata,
                    severity=AssetCheckSeverity.ERROR,
                    partition=account,
                )
            )
            if not verdict.passed:
                context.log.warning(f"{account}: {verdict.description}")
        return SensorResult(asset_events=events)

    return ledger_freshness
