"""Sensors: ledger freshness per source, evaluated without launching runs."""

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetKey,
    DagsterEventType,
    DefaultSensorStatus,
    EventRecordsFilter,
    RunFailureSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.monitoring.alerts import operational_alert
from inventory_pipeline.defs.stock.ledger_sync import every_account_fresh
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.settings import Settings


def build_freshness_sensor(settings: Settings) -> SensorDefinition:
    @sensor(
        name="ledger_freshness",
        minimum_interval_seconds=settings.freshness_check_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Every FRESHNESS_CHECK_SECONDS (15 minutes): is each source of each account within "
        "MAX_SYNC_AGE_HOURS? Judges inventory_data's every_account_fresh without launching a run.",
    )
    def ledger_freshness(context: SensorEvaluationContext, database: InventoryDatabase) -> SensorResult:
        verdict = every_account_fresh(database.engine, settings, utcnow())
        if not verdict.passed:
            context.log.warning(verdict.description)
        return SensorResult(
            asset_events=[
                AssetCheckEvaluation(
                    asset_key=AssetKey("inventory_data"),
                    check_name=verdict.check,
                    passed=verdict.passed,
                    description=verdict.description,
                    metadata=verdict.metadata,
                    severity=AssetCheckSeverity.ERROR,
                )
            ]
        )

    return ledger_freshness


def build_alert_sensors(settings: Settings) -> list[SensorDefinition]:
    """A run-failure sensor and a check-failure sensor, on by default when a channel is configured."""
    status = DefaultSensorStatus.RUNNING if settings.channels.any else DefaultSensorStatus.STOPPED
    # Off by default without a channel, and the UI says why next to the switch.
    why_off = (
        ""
        if settings.channels.any
        else " Off: no channel is configured; set SMTP_HOST (and ALERT_EMAIL), TELEGRAM_BOT_TOKEN with "
        "TELEGRAM_CHAT_ID, or NOTIFY_WEBHOOK_URL, and it is on by default."
    )

    @run_failure_sensor(
        name="alert_on_run_failure",
        default_status=status,
        description="E-mail / Telegram / webhook when a run fails, with the run's link; "
        "at most one message per job per hour, the rest summarized." + why_off,
    )
    def alert_on_run_failure(
        context: RunFailureSensorContext, database: InventoryDatabase, notifier: NotifierResource
    ) -> None:
        run = context.dagster_run
        link = f"{settings.ui_url.rstrip('/')}/runs/{run.run_id}"
        message = (context.failure_event.message or "the run failed")[:1500]
        operational_alert(
            database.engine,
            notifier,
            "RunFailure",
            run.job_name,
            f"Run failed: {run.job_name}",
            f"{message}\n{link}",
            {"event": "RunFailure", "job": run.job_name, "run_id": run.run_id, "link": link},
            utcnow(),
            run.run_id,
        )

    @sensor(
        name="alert_on_check_failure",
        default_status=status,
        minimum_interval_seconds=60,
        description="E-mail / Telegram / webhook when an asset check fails with ERROR severity; at most one "
        "message per check per hour, the rest summarized." + why_off,
    )
    def alert_on_check_failure(
        context: SensorEvaluationContext, database: InventoryDatabase, notifier: NotifierResource
    ) -> SkipReason | None:
        kind = DagsterEventType.ASSET_CHECK_EVALUATION
        if context.cursor is None:  # first tick: start from now, not from every failure in the past
            newest = context.instance.get_event_records(EventRecordsFilter(event_type=kind), ascending=False, limit=1)
            context.update_cursor(str(newest[0].storage_id if newest else 0))
            return SkipReason("watching asset checks from now on")
        records = context.instance.get_event_records(
            EventRecordsFilter(event_type=kind, after_cursor=int(context.cursor)), ascending=True, limit=500
        )
        for record in records:
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            if evaluation.passed or evaluation.severity != AssetCheckSeverity.ERROR:
                continue
            name = f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}"
            link = f"{settings.ui_url.rstrip('/')}/runs/{record.run_id}"
            description = (evaluation.description or "")[:1000]
            operational_alert(
                database.engine,
                notifier,
                "CheckFailure",
                name,
                f"Check failed: {name}",
                f"{description}\n{link}",
                {"event": "CheckFailure", "check": name, "run_id": record.run_id, "link": link},
                utcnow(),
                record.run_id,
            )
        if records:
            context.update_cursor(str(records[-1].storage_id))
        return None

    return [alert_on_run_failure, alert_on_check_failure]
