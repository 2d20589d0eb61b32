"""Two seller accounts' first full syncs under the sandbox's ``real`` profile (the published rate
limits), each run in a process of its own as the daemon launches them, on MariaDB: one after the
other (what the per-API pools ``ozon_api``/``wb_api`` made of them: one Ozon and one WB step at a
time across all accounts) against side by side (each account paced by its own buckets, shared by
every process through the database); and two runs of one account side by side (a scheduled sync
beside a full resync), which must share that account's limits.

``python -m benchmarks.accounts --skus 10000``. Reports each scenario's wall time, its calls and the
answers 429 the sandbox counted. One run on a shared machine: read the figures as ratios.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import requests

from benchmarks.harness import RESULTS, mariadb, sandbox_process


def _sync(env: dict[str, str], job: str, account: str) -> dict:
    """In a process of its own: one run of ``job`` for ``account``."""
    import os

    os.environ.update(env)
    from dagster import DagsterInstance

    from inventory_pipeline.definitions import build_definitions
    from inventory_pipeline.settings import load_settings

    definition = build_definitions(load_settings()).resolve_job_def(job)
    started = time.time()
    with DagsterInstance.ephemeral() as instance:
        result = definition.execute_in_process(partition_key=account, instance=instance, raise_on_error=False)
    return {"job": job, "account": account, "success": result.success, "started": started, "ended": time.time()}


def _scenario(server, skus: int, name: str, runs: list[tuple[str, str]], side_by_side: bool) -> dict:
    from inventory_pipeline.db.engine import make_engine, migrate
    from marketplace_sandbox.env import sandbox_env

    with sandbox_process(skus, profile="real") as url:
        db_url = server.create_database(f"accounts_{name}")
        migrate(make_engine(db_url))
        env = {k: v for k, v in sandbox_env(url).items() if not k.startswith(("WIX_SITE", "HAIER_"))}
        env.update({"INVENTORY_DB_URL": db_url, "MIN_PRODUCTS_THRESHOLD": "1", "FAST_PATH": "false"})
        requests.delete(f"{url}/_sandbox/calls", timeout=10).raise_for_status()
        started = time.time()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(runs) if side_by_side else 1, mp_context=context) as pool:
            outcomes = list(pool.map(_sync, [env] * len(runs), *zip(*runs, strict=True)))
        seconds = time.time() - started
        calls = requests.get(f"{url}/_sandbox/calls", timeout=60).json()
        throttled = requests.get(f"{url}/_sandbox/throttled", timeout=60).json()
    return {
        "runs": [
            {k: v for k, v in o.items() if k in ("job", "account", "success")}
            | {"seconds": round(o["ended"] - o["started"], 1)}
            for o in outcomes
        ],
        "side_by_side": side_by_side,
        "seconds": round(seconds, 1),
        "calls": sum(calls.values()),
        "answers_429": sum(throttled.values()),
        "throttled_by_bucket": throttled,
    }


def run(skus: int) -> dict:
    both = [("stock_sync_all_sources", "main"), ("stock_sync_all_sources", "second")]
    one_account = [("stock_sync_all_sources", "main"), ("stock_full_resync", "main")]
    with mariadb() as server:
        figures = {
            "skus": skus,
            "two_accounts_one_after_the_other": _scenario(server, skus, "serial", both, side_by_side=False),
            "two_accounts_side_by_side": _scenario(server, skus, "parallel", both, side_by_side=True),
            "one_account_two_runs_side_by_side": _scenario(server, skus, "same", one_account, side_by_side=True),
        }
    figures["side_by_side_over_one_after_the_other"] = round(
        figures["two_accounts_side_by_side"]["seconds"] / figures["two_accounts_one_after_the_other"]["seconds"], 2
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skus", type=int, default=10_000)
    args = parser.parse_args()
    figures = run(args.skus)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"accounts-{args.skus}.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
