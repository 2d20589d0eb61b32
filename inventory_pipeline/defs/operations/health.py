"""The hourly health check (the cron stock-sync service's ``--check-api``, ``--check-db``,
``--check-cron`` and its monitor script) as an asset whose checks an operator reads on its page:
each API's credentials per seller account, the database, the daemon, each account's recent syncs."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    asset,
)

from inventory_pipeline.assets.metadata import table
from inventory_pipeline.checks import Verdict
from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.engine import schema_revision
from inventory_pipeline.defs.operations import store
from inventory_pipeline.redact import redact_urls
from inventory_pipeline.resources import client_key
from inventory_pipeline.settings import Settings

HEARTBEAT_MAX_AGE = timedelta(minutes=5)
NAME = "service_health"


def subjects(settings: Settings) -> dict[str, list[str]]:
    """The check names, each with the resource keys whose credentials it asks."""
    found = {
        f"{account}_credentials": [
            *([client_key("ozon", account)] if account in settings.ozon_accounts else []),
            *([client_key("wb", account)] if account in settings.wb_accounts else []),
        ]
        for account in settings.accounts
    }
    if settings.wix_site_configured:
        found["wix_api"] = ["wix"]
    if settings.haier_configured:
        found["haier_api"] = ["haier"]
    return found


def ask_apis(resources, keys: list[str]) -> dict[str, str | None]:
    """Each client's credentials, all at once and each once: a health check answers in seconds, not
    after every retry. None when it answered, else what went wrong."""

    def ask(key: str) -> str | None:
        try:
            getattr(resources, key).check_credentials()
            return None
        except Exception as exc:  # any failure is a health finding, reported with the others
            return str(exc)  # the clients' own errors: they name the *_API_URL to check and carry no secret

    with ThreadPoolExecutor(max(1, len(keys))) as pool:
        return dict(zip(keys, pool.map(ask, keys), strict=True))


def daemon_verdict(beats: dict, stopped: list[str], now: float) -> Verdict:
    """The daemon that runs schedules and sensors is alive, and nothing was switched off."""
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
    if stopped:
        problems.append(f"switched off: {', '.join(stopped)}")
    text = "; ".join(problems) or f"the daemon runs {', '.join(sorted(beats))}; no schedule or sensor is off"
    return Verdict("daemon", not problems, text, {"switched_off": len(stopped)})


def syncs_verdict(account: str, settings: Settings, last: dict, now: datetime, unread: str | None = None) -> Verdict:
    """Each source of ``account`` had a successful sync within MAX_SYNC_AGE_HOURS; ``unread`` says why
    the sync logs could not be read."""
    if unread:
        return Verdict(f"{account}_recent_syncs", False, f"sync logs unreadable: {unread}", {})
    expected = [
        s for s, accounts in (("ozon", settings.ozon_accounts), ("wb", settings.wb_accounts)) if account in accounts
    ]
    limit = timedelta(hours=settings.max_sync_age_hours)
    problems = [
        f"{source}/{account}: no successful sync"
        + (f" since {last[(source, account)]:%Y-%m-%d %H:%M} UTC" if last.get((source, account)) else " yet")
        for source in expected
        if not last.get((source, account)) or now - last[(source, account)] > limit
    ]
    text = "; ".join(problems) or f"every source of {account} synced within {settings.max_sync_age_hours:g} h"
    return Verdict(f"{account}_recent_syncs", not problems, text, {})


def build_health_asset(settings: Settings) -> AssetsDefinition:
    checks = subjects(settings)
    keys = sorted({k for ks in checks.values() for k in ks})
    names = [*checks, "database", "daemon", *(f"{a}_recent_syncs" for a in settings.accounts), "products_synced"]
    descriptions = {
        **{n: f"{n.removesuffix('_credentials').removesuffix('_api')}'s API credentials are accepted" for n in checks},
        "database": "The inventory database is reachable and migrated to the newest schema.",
        "daemon": "The Dagster daemon runs schedules and sensors, and none is switched off.",
        **{f"{a}_recent_syncs": f"Each source of {a} synced within MAX_SYNC_AGE_HOURS." for a in settings.accounts},
        "products_synced": "At least MIN_PRODUCTS_THRESHOLD products synced in the last 24 hours.",
    }

    @asset(
        name=NAME,
        group_name="operations",
        required_resource_keys={"database", *keys},
        check_specs=[AssetCheckSpec(n, asset=NAME, description=descriptions[n]) for n in names],
        description="How the service is, hourly: every seller account's API credentials, Wix and Haier, the "
        "database, the daemon that runs the schedules, and each account's recent syncs. Each is a check on "
        "this page; the run fails when one does.",
    )
    def service_health(context: AssetExecutionContext):
        now = utcnow()
        asked = ask_apis(context.resources, keys)
        verdicts = []
        for name, wanted in checks.items():
            problems = [f"{k}: {asked[k]}" for k in wanted if asked[k]]
            verdicts.append(
                Verdict(
                    name,
                    not problems,
                    " | ".join(problems) or f"{', '.join(wanted) or 'nothing'} accepted",
                    {},
                )
            )
        database = context.resources.database
        last, recent, unread = {}, 0, None
        try:
            current, head = schema_revision(database.engine)
            migrated = current == head
            verdicts.append(
                Verdict(
                    "database",
                    migrated,
                    f"{database.describe()} reachable, schema at {current} (newest {head})"
                    + ("" if migrated else ": run `inventory-db upgrade`"),
                    {},
                )
            )
        except Exception as exc:
            verdicts.append(Verdict("database", False, redact_urls(f"database: {exc}"), {}))
        try:
            last, recent = store.recent_syncs(database.engine, now - timedelta(hours=24))
        except Exception as exc:
            unread = redact_urls(f"{type(exc).__name__}: {exc}")[:500]
        try:
            states = context.instance.all_instigator_state() if context.instance.schedule_storage else []
            stopped = sorted(s.instigator_name for s in states if s.status.value == "STOPPED")
            verdicts.append(
                daemon_verdict(context.instance.get_daemon_heartbeats(), stopped, datetime.now(UTC).timestamp())
            )
        except Exception as exc:  # the instance's storage is down: a finding, not a crash
            verdicts.append(Verdict("daemon", False, f"the Dagster instance could not be asked: {exc}", {}))
        verdicts += [syncs_verdict(a, settings, last, now, unread) for a in settings.accounts]
        verdicts.append(
            Verdict(
                "products_synced",
                not unread and recent >= settings.min_products_threshold,
                f"sync logs unreadable: {unread}"
                if unread
                else f"{recent} products synced in the last 24 h "
                f"(MIN_PRODUCTS_THRESHOLD={settings.min_products_threshold})",
                {"products_24h": recent},
            )
        )
        rows = [{"check": v.check, "status": "ok" if v.passed else "FAILED", "detail": v.description} for v in verdicts]
        rows.sort(key=lambda r: (r["status"] == "ok", r["check"]))
        failed = [v for v in verdicts if not v.passed]
        yield MaterializeResult(
            metadata={
                "failed": len(failed),
                "results": table(rows, ["check", "status", "detail"], total=len(rows)),
            },
            check_results=[
                AssetCheckResult(check_name=v.check, passed=v.passed, description=v.description, metadata=v.metadata)
                for v in verdicts
            ],
        )
        if failed:
            raise Failure(
                description="health check failed: " + " | ".join(f"{v.check}: {v.description}" for v in failed)
            )

    return service_health
