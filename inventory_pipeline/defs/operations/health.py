"""The hourly health check (the cron stock-sync service's ``--check-api``, ``--check-db``,
``--check-cron`` and its monitor script): APIs, database, daemon, recent syncs."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from dagster import Failure, MetadataValue, OpDefinition, OpExecutionContext, Output, op

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.engine import schema_revision
from inventory_pipeline.defs.operations import store
from inventory_pipeline.resources import client_key
from inventory_pipeline.resources.http import ApiError
from inventory_pipeline.settings import Settings


def build_health_op(settings: Settings):
    keys = {client_key("ozon", a) for a in settings.ozon_accounts} | {client_key("wb", a) for a in settings.wb_accounts}
    keys |= {"wix"} if settings.wix_site_configured else set()
    keys |= {"haier"} if settings.haier_configured else set()

    @op(required_resource_keys={"database", *keys})
    def check_health(context: OpExecutionContext) -> Output[dict]:
        """Each API answers with valid credentials; the database is reachable and migrated. The APIs
        are asked at once, each once: a health check answers in seconds, not after every retry."""
        results: dict[str, str] = {}
        problems: list[str] = []

        def ask(key: str) -> tuple[str, str | None]:
            try:
                return getattr(context.resources, key).check_credentials(), None
            except (ApiError, Exception) as exc:  # any failure is a health finding, reported together
                return f"FAILED: {exc}", str(exc)

        with ThreadPoolExecutor(max(1, len(keys))) as pool:
            for key, (text, problem) in zip(sorted(keys), pool.map(ask, sorted(keys)), strict=True):
                results[key] = text
                if problem:
                    problems.append(f"{key}: {problem}")
        database = context.resources.database
        try:
            current, head = schema_revision(database.engine)
            results["database"] = f"{database.describe()} reachable, schema at {current} (newest {head})"
        except Exception as exc:
            results["database"] = f"FAILED: {exc}"
            problems.append(f"database: {exc}")
        for name, text in results.items():
            (context.log.error if text.startswith("FAILED") else context.log.info)(f"{name}: {text}")
        if problems:
            raise Failure(
                description="health check failed: " + " | ".join(problems),
                metadata={k: MetadataValue.text(v) for k, v in results.items()},
            )
        return Output(results, metadata={k: MetadataValue.text(v) for k, v in results.items()})

    return check_health


HEARTBEAT_MAX_AGE = timedelta(minutes=5)


@op
def check_schedules_running(context: OpExecutionContext) -> Output[dict]:
    """The cron stock-sync service's --check-cron: the daemon that runs schedules and sensors is alive, and no schedule
    or sensor has been switched off."""
    now = datetime.now(UTC).timestamp()
    beats = context.instance.get_daemon_heartbeats()
    problems = [
        f"the Dagster daemon's {name} has not reported for {int(now - beat.timestamp)} s"
        for name, beat in beats.items()
        if name in {"SCHEDULER", "SENSOR"} and now - beat.timestamp > HEARTBEAT_MAX_AGE.total_seconds()
    ]
    if not {"SCHEDULER", "SENSOR"} & set(beats):
        problems.append(
            "the Dagster daemon is not running, so no schedule or sensor runs: start `dagster-daemon run`"
            " (or `make ui`)"
        )
    states = context.instance.all_instigator_state() if context.instance.schedule_storage else []
    stopped = sorted(state.instigator_name for state in states if state.status.value == "STOPPED")
    if stopped:
        problems.append(f"switched off: {', '.join(stopped)}")
    if problems:
        raise Failure(description="; ".join(problems), metadata={"stopped": ", ".join(stopped) or "none"})
    return Output({"daemons": sorted(beats)}, metadata={"daemons": ", ".join(sorted(beats))})


def build_recent_syncs_op(settings: Settings) -> OpDefinition:
    @op(required_resource_keys={"database"})
    def check_recent_syncs(context: OpExecutionContext) -> Output[dict]:
        """Last successful sync of each source and account within MAX_SYNC_AGE_HOURS; at least
        MIN_PRODUCTS_THRESHOLD products synced in the last 24 hours (the cron stock-sync service's
        monitor script)."""
        engine, now = context.resources.database.engine, utcnow()
        last, recent = store.recent_syncs(engine, now - timedelta(hours=24))
        expected = [
            (s, a) for s, accounts in (("ozon", settings.ozon_accounts), ("wb", settings.wb_accounts)) for a in accounts
        ]
        limit = timedelta(hours=settings.max_sync_age_hours)
        problems = [
            f"{source}/{account}: no successful sync"
            + (f" since {last[(source, account)]:%Y-%m-%d %H:%M} UTC" if last.get((source, account)) else " yet")
            for source, account in expected
            if not last.get((source, account)) or now - last[(source, account)] > limit
        ]
        if recent < settings.min_products_threshold:
            problems.append(
                f"only {recent} products synced in the last 24 h "
                f"(MIN_PRODUCTS_THRESHOLD={settings.min_products_threshold})"
            )
        metadata = {f"{s}_{a}_last_success": str(last.get((s, a), "never")) for s, a in expected}
        metadata["products_24h"] = recent
        if problems:
            raise Failure(description="; ".join(problems), metadata=metadata)
        return Output(metadata, metadata=metadata)

    return check_recent_syncs
