"""Operational jobs that are not assets: the hourly health check and the dry run (the cron stock-sync service's
``--check-api`` / ``--check-db`` and ``--test-mode``)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import Config, Failure, MetadataValue, OpExecutionContext, Output, op
from dagster._core.scheduler.instigation import InstigatorStatus
from sqlalchemy import func, select

from inventory_pipeline import ledger
from inventory_pipeline.assets.marketplaces import FETCHERS, resource_key
from inventory_pipeline.assets.wix import PushJournal
from inventory_pipeline.backup import apply_retention, backup, prune_backups
from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.engine import schema_revision
from inventory_pipeline.db.tables import inventory_data, inventory_synced, sync_logs, synced_at, wix_push_log
from inventory_pipeline.resources.http import ApiError
from inventory_pipeline.resources.pages import RawPage
from inventory_pipeline.resources.wix import WixItem
from inventory_pipeline.settings import Settings, load_settings
from inventory_pipeline.wix_plan import PlanItem
from inventory_pipeline.wix_push import push, verify


class _Collector:
    """Stands in for the snapshot writer in a dry run: the normalized rows stay in memory, nothing
    is stored."""

    def __init__(self) -> None:
        self.rows: list[list[dict]] = []

    def add(self, page: RawPage) -> None:
        pass

    def add_rows(self, rows: list[dict]) -> None:
        self.rows.append(rows)


def build_health_op(settings: Settings):
    keys = {resource_key("ozon", a) for a in settings.ozon_accounts} | {
        resource_key("wb", a) for a in settings.wb_accounts
    }
    keys |= {"wix"} if settings.wix_site_configured else set()
    keys |= {"haier"} if settings.haier_configured else set()

    @op(required_resource_keys={"database", *keys})
    def check_health(context: OpExecutionContext) -> Output[dict]:
        """Each API answers with valid credentials; the database is reachable and migrated."""
        results: dict[str, str] = {}
        problems: list[str] = []
        for key in sorted(keys):
            try:
                results[key] = getattr(context.resources, key).check_credentials()
            except (ApiError, Exception) as exc:  # any failure is a health finding, reported together
                results[key] = f"FAILED: {exc}"
                problems.append(f"{key}: {exc}")
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


class DryRunConfig(Config):
    account: str = "main"
    sources: list[str] = ["ozon", "wb"]


def build_dry_run_op(settings: Settings):
    keys = {resource_key("ozon", a) for a in settings.ozon_accounts} | {
        resource_key("wb", a) for a in settings.wb_accounts
    }

    @op(required_resource_keys={"database", *keys})
    def preview_stock_sync(context: OpExecutionContext, config: DryRunConfig) -> Output[dict]:
        """Fetch and normalize like a real sync and report what would change; write nothing."""
        engine = context.resources.database.engine
        report: dict[str, dict] = {}
        for source in config.sources:
            key = resource_key(source, config.account)
            if key not in keys:
                raise Failure(f"no {source} account '{config.account}' is configured")
            collector = _Collector()
            tally = FETCHERS[source](
                getattr(context.resources, key),
                collector,
                config.account,
                lambda stock_type, s=source: ledger.stocked_sizes(engine, s, config.account, stock_type),
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


class WixRollbackConfig(Config):
    run_id: str
    """The run whose Wix writes to undo (see wix_push_log)."""


@op(required_resource_keys={"database", "wix"})
def rollback_wix_push(context: OpExecutionContext, config: WixRollbackConfig) -> Output[dict]:
    """Put back the quantities a chosen run changed in Wix, read fresh before writing."""
    engine = context.resources.database.engine
    wix = context.resources.wix
    log = wix_push_log
    with engine.connect() as conn:
        # "pending": written to Wix or not when the run died; Wix is re-read before anything is undone.
        rows = conn.execute(
            select(log).where(log.c.run_id == config.run_id, log.c.status.in_(("applied", "pending")))
        ).all()
    if not rows:
        raise Failure(f"run {config.run_id} applied no Wix change to roll back (wix_push_log)")
    version = wix.catalog_version()
    known = [WixItem(r.sku, r.product_id, r.variant_id, "", r.target_quantity) for r in rows]
    current = wix.reread(version, known)
    changes = [PlanItem(current[r.sku], r.before_quantity) for r in rows if r.sku in current]
    outcome = push(wix, version, [c for c in changes if c.delta], PushJournal(engine, context.run_id))
    mismatched = verify(wix, version, outcome.applied)
    summary = {
        "restored": len(outcome.applied) - len(mismatched),
        "failed": len(outcome.failed) + len(mismatched),
        "missing_in_wix": len(rows) - len(current),
    }
    if outcome.failed or mismatched:
        raise Failure(f"rollback of {config.run_id} incomplete: {summary}", metadata=summary)
    return Output(summary, metadata=summary)


@op(required_resource_keys={"database"})
def back_up_inventory(context: OpExecutionContext) -> Output[str]:
    """A dated, compressed copy of the inventory database; copies older than BACKUP_KEEP_DAYS go."""
    settings = load_settings()
    now = datetime.now(UTC)
    path = backup(context.resources.database.engine, Path(settings.backup_dir), now)
    removed = prune_backups(Path(settings.backup_dir), settings.backup_keep_days, now)
    return Output(
        str(path),
        metadata={"backup": str(path), "size_bytes": path.stat().st_size, "old_backups_removed": len(removed)},
    )


@op(required_resource_keys={"database"})
def apply_history_retention(context: OpExecutionContext) -> Output[dict]:
    """History, logs, notifications and old snapshots beyond their retention are deleted."""
    settings = load_settings()
    removed = apply_retention(
        context.resources.database.engine, utcnow(), settings.history_retention_days, settings.snapshot_retention_days
    )
    return Output(removed, metadata={k: int(v) for k, v in removed.items()})


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
    stopped = sorted(state.instigator_name for state in states if state.status == InstigatorStatus.STOPPED)
    if stopped:
        problems.append(f"switched off: {', '.join(stopped)}")
    if problems:
        raise Failure(description="; ".join(problems), metadata={"stopped": ", ".join(stopped) or "none"})
    return Output({"daemons": sorted(beats)}, metadata={"daemons": ", ".join(sorted(beats))})


@op(required_resource_keys={"database"})
def check_recent_syncs(context: OpExecutionContext) -> Output[dict]:
    """Last successful sync per source within MAX_SYNC_AGE_HOURS; at least MIN_PRODUCTS_THRESHOLD
    products synced in the last 24 hours (the cron stock-sync service's monitor script)."""
    settings = load_settings()
    engine, now = context.resources.database.engine, utcnow()
    with engine.connect() as conn:
        last = dict(
            conn.execute(
                select(sync_logs.c.source, func.max(sync_logs.c.started_at))
                .where(sync_logs.c.status.in_(("success", "partial")))
                .group_by(sync_logs.c.source)
            ).all()
        )
        recent = conn.execute(
            select(func.count(func.distinct(inventory_data.c.sku)))
            .select_from(inventory_synced)
            .where(synced_at > now - timedelta(hours=24))
        ).scalar_one()
    expected = {"ozon": settings.ozon_accounts, "wb": settings.wb_accounts}
    limit = timedelta(hours=settings.max_sync_age_hours)
    problems = [
        f"{source}: no successful sync" + (f" since {last[source]:%Y-%m-%d %H:%M} UTC" if last.get(source) else " yet")
        for source, accounts in expected.items()
        if accounts and (not last.get(source) or now - last[source] > limit)
    ]
    if recent < settings.min_products_threshold:
        problems.append(
            f"only {recent} products synced in the last 24 h (MIN_PRODUCTS_THRESHOLD={settings.min_products_threshold})"
        )
    metadata = {f"{s}_last_success": str(last.get(s, "never")) for s in expected} | {"products_24h": recent}
    if problems:
        raise Failure(description="; ".join(problems), metadata=metadata)
    return Output(metadata, metadata=metadata)
