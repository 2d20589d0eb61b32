"""The fast path's sensor: it polls what nobody pushes (WB's new orders every tick, Ozon's postings
awaiting packaging now and then), then asks for one run per account with signals waiting and no
fast-path run of its own in flight."""

from __future__ import annotations

import json
import time

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.signals import polling, queue
from inventory_pipeline.redact import redact_urls
from inventory_pipeline.resources import client_key
from inventory_pipeline.settings import Settings

JOB = "stock_fast_path"
IN_FLIGHT = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]
MAX_BACKOFF_SECONDS = 600
ACCOUNT_TAG = "signals/account"


def run_config(account: str) -> dict:
    """The fast-path run of one account (from the UI's launchpad as well)."""
    return {"ops": {"apply_stock_signals": {"config": {"account": account}}}}


def build_signals_sensor(settings: Settings, job):
    clients = {client_key("ozon", a) for a in settings.ozon_accounts} | {
        client_key("wb", a) for a in settings.wb_accounts
    }
    running = settings.fast_path and settings.schedules_running

    @sensor(
        name="stock_signals",
        job=job,
        minimum_interval_seconds=settings.signals_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED,
        required_resource_keys={"database", *clients},
        description="Polls WB's new FBS orders (and their cancellations) and Ozon's unfulfilled postings into "
        "stock_signals (Ozon's "
        "pushes arrive through the receiver) and starts a stock_fast_path run per account with signals waiting."
        + ("" if running else " Off: FAST_PATH=false or SCHEDULES_RUNNING=false."),
    )
    def stock_signals(context: SensorEvaluationContext):
        if not settings.fast_path:  # the setting, whatever state the sensor was switched to
            return SkipReason("FAST_PATH=false: no signal is polled and no fast-path run started")
        cursor = json.loads(context.cursor) if context.cursor else {}
        engine = context.resources.database.engine
        now, clock = utcnow(), time.time()
        # Signals already queued (the receiver's) are launched before any polling, so that a
        # marketplace that does not answer delays nothing but its own polled signals.
        requests = _launch(context, engine, cursor, clock, set())
        polled, problems = 0, []
        for account in settings.wb_accounts:
            api = getattr(context.resources, client_key("wb", account))
            try:
                polled += queue.enqueue(engine, polling.wb_orders(api, account))
                if clock - cursor.get(f"wb_statuses:{account}", 0) >= settings.wb_status_poll_seconds:
                    polled += queue.enqueue(engine, polling.wb_cancellations(api, engine, account, now))
                    cursor[f"wb_statuses:{account}"] = clock
            except Exception as exc:  # one account's answer, whatever its shape, stops no other
                problems.append(f"WB {account}: {redact_urls(str(exc))[:300]}")
        for account in settings.ozon_accounts:
            if clock - cursor.get(f"ozon_polled:{account}", 0) < settings.ozon_poll_seconds:
                continue
            try:
                api = getattr(context.resources, client_key("ozon", account))
                polled += queue.enqueue(engine, polling.ozon_unfulfilled(api, account, now))
                cursor[f"ozon_polled:{account}"] = clock
            except Exception as exc:
                problems.append(f"Ozon {account}: {redact_urls(str(exc))[:300]}")
        for problem in problems:
            context.log.warning(f"signal polling failed: {problem}")
        requests += _launch(context, engine, cursor, clock, {r.tags[ACCOUNT_TAG] for r in requests})
        context.update_cursor(json.dumps(cursor))
        if not requests:
            return SkipReason(
                f"no signals waiting ({polled} new from polling)" + (f"; {problems[0]}" if problems else "")
            )
        return requests

    def _launch(context: SensorEvaluationContext, engine, cursor: dict, clock: float, launched: set[str]) -> list:
        requests = []
        for account, waiting in sorted(queue.waiting(engine).items()):
            if account in launched or account not in settings.accounts or _in_flight(context, account, clock):
                continue
            last = cursor.get(f"launched:{account}", [0, 0, 0.0])
            # The same newest signal still waiting after a run: that run failed. Wait longer each time.
            attempt = last[1] + 1 if last[0] == waiting.newest_id else 0
            if attempt and clock - last[2] < min(MAX_BACKOFF_SECONDS, 10 * 2**attempt):
                continue
            cursor[f"launched:{account}"] = [waiting.newest_id, attempt, clock]
            requests.append(
                RunRequest(
                    run_key=f"{JOB}:{account}:{waiting.newest_id}:{attempt}",
                    run_config=run_config(account),
                    tags={
                        ACCOUNT_TAG: account,
                        "signals": str(waiting.count),
                        # Ahead of queued syncs and backfills; and not retried by the instance: the
                        # sensor starts the next run itself, for the signals given back.
                        "dagster/priority": "10",
                        "dagster/max_retries": "0",
                    },
                )
            )
        return requests

    return stock_signals


def _in_flight(context: SensorEvaluationContext, account: str, clock: float) -> bool:
    """A fast-path run of the account queued or running. One older than a claim's timeout is taken
    for dead (its process gone without a word): its signals are claimed again anyway."""
    records = context.instance.get_run_records(
        filters=RunsFilter(job_name=JOB, statuses=IN_FLIGHT, tags={ACCOUNT_TAG: account}), limit=1
    )
    return any(clock - r.create_timestamp.timestamp() < queue.CLAIM_TIMEOUT.total_seconds() for r in records)
