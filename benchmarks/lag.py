"""How long a marketplace change takes to reach Wix: the sandbox's live buyers and sellers under its
``real`` profile (the published rate limits), against the real ``dagster-daemon`` and the Ozon push
receiver, with the default schedules. ``--mode fast``: the fast path on (the default); ``--mode
schedules``: off, the syncs and the hourly push alone, measured the same way.

``python -m benchmarks.lag --skus 3000 --minutes 5 [--mode schedules]``. Reports the lag from each
truth change to the Wix quantity (p50, p95, max; changes still open at the end count as at least
their age), oversold SKU-minutes, calls per hour per endpoint against the limits, and answers 429.
One run on a shared machine: read the figures as ratios between modes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.harness import RESULTS, sandbox_process

ACCOUNTS = ("main", "second")
DRAIN_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def run(skus: int, seconds: float, mode: str, orders_per_minute: float, quick_setup: bool = False) -> dict:
    """``quick_setup``: the first full syncs under the sandbox's fast profile (at 100,000 SKUs the
    card listing alone takes ten minutes per account under the real limits); the measured part
    always runs under the real profile."""
    saved = dict(os.environ)
    try:
        return _run(skus, seconds, mode, orders_per_minute, quick_setup)
    finally:  # the settings this run set are not left behind for whatever runs next in the process
        os.environ.clear()
        os.environ.update(saved)


def _run(skus: int, seconds: float, mode: str, orders_per_minute: float, quick_setup: bool) -> dict:
    from marketplace_sandbox.env import sandbox_env

    setup_profile = "fast" if quick_setup else "real"
    with (
        sandbox_process(skus, profile=setup_profile, wix_in_sync=True) as url,
        tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder,
    ):
        root = Path(__file__).resolve().parent.parent
        home = Path(folder) / "home"
        home.mkdir()
        shutil.copy(root / "dagster.yaml", home / "dagster.yaml")
        receiver_port = _free_port()
        env = {
            **os.environ,
            **sandbox_env(url),
            "DAGSTER_HOME": str(home),
            "INVENTORY_DB_URL": f"sqlite:///{Path(folder) / 'inventory.db'}",
            "FAST_PATH": "true" if mode == "fast" else "false",
            "SIGNALS_INTERVAL_SECONDS": "5",
        }
        os.environ.update(env)
        from dagster import DagsterInstance

        from inventory_pipeline.db.engine import make_engine, migrate
        from inventory_pipeline.definitions import build_definitions
        from inventory_pipeline.settings import load_settings

        migrate(make_engine(env["INVENTORY_DB_URL"]))
        defs = build_definitions(load_settings())
        instance = DagsterInstance.get()
        started = time.monotonic()
        for account in ACCOUNTS:  # the ledger and Wix as a full sync and push leave them
            assert (
                defs.resolve_job_def("stock_sync_all_sources")
                .execute_in_process(partition_key=account, instance=instance, raise_on_error=False)
                .success
            )
        first_sync = time.monotonic() - started
        # What is measured runs under the published limits, paced as in production.
        requests.put(f"{url}/_sandbox/config", json={"profile": "real"}, timeout=10).raise_for_status()
        env["MARKETPLACE_PACING"] = "published"
        bin_dir = Path(sys.executable).parent
        subprocess.run([str(bin_dir / "dagster"), "instance", "migrate"], env=env, check=True, capture_output=True)
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "inventory_pipeline.defs.signals.receiver", "--port", str(receiver_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            ),
            subprocess.Popen(
                [str(bin_dir / "dagster-daemon"), "run", "-w", str(root / "workspace.yaml")],
                cwd=root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            ),
        ]
        try:
            time.sleep(15)  # the daemon loads the code location
            requests.delete(f"{url}/_sandbox/calls", timeout=10).raise_for_status()
            live = {
                "push_url": f"http://127.0.0.1:{receiver_port}/ozon/push",
                "orders_per_minute": orders_per_minute,
                "edits_per_minute": orders_per_minute / 5,
                "cancel_share": 0.1,
                "cancel_after_seconds": 60,
                "ship_after_seconds": 600,
                "running": True,
            }
            requests.put(f"{url}/_sandbox/live", json=live, timeout=10).raise_for_status()
            time.sleep(seconds)
            requests.put(f"{url}/_sandbox/live", json={"running": False}, timeout=10).raise_for_status()
            deadline = time.monotonic() + DRAIN_SECONDS  # the last changes' runs finish
            while True:
                report = requests.get(f"{url}/_sandbox/live", timeout=30).json()
                if not report["open"] or time.monotonic() > deadline:
                    break
                time.sleep(2)
            calls = requests.get(f"{url}/_sandbox/calls", timeout=10).json()
            throttled = requests.get(f"{url}/_sandbox/throttled", timeout=10).json()
        finally:
            for child in children:
                os.killpg(child.pid, 15)
                child.wait(timeout=30)
        runs = instance.get_runs()
        fast_runs = [r for r in runs if r.job_name == "stock_fast_path"]
        window = report["seconds"]
        lags = report["lags"] + report["open"]  # an open change: at least its age
        return {
            "skus": skus,
            "mode": mode,
            "seconds": seconds,
            "orders_per_minute_per_account_and_marketplace": orders_per_minute,
            "first_full_sync_seconds": round(first_sync, 1),
            "first_sync_profile": setup_profile,
            "changes": report["changes"],
            "episodes": len(lags),
            "reached_wix": len(report["lags"]),
            "still_behind_at_end": len(report["open"]),
            "lag_p50_seconds": _quantile(lags, 0.5),
            "lag_p95_seconds": _quantile(lags, 0.95),
            "lag_max_seconds": round(max(lags), 1) if lags else 0,
            "lag_mean_seconds": round(statistics.fmean(lags), 1) if lags else 0,
            "oversold_sku_minutes": round(report["oversold_sku_seconds"] / 60, 1),
            "wix_wrong_without_a_change": len(report["wrong_without_a_change"]),
            "ozon_pushes": report["pushes"],
            "push_answer_p95_ms": _quantile([v * 1000 for v in report["push_seconds"]], 0.95),
            "fast_path_runs": len(fast_runs),
            "fast_path_runs_failed": sum(1 for r in fast_runs if r.status.value == "FAILURE"),
            "calls_per_hour": {k: round(v * 3600 / window) for k, v in sorted(calls.items())},
            "answers_429": throttled,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=3000)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--mode", choices=("fast", "schedules"), default="fast")
    parser.add_argument("--orders-per-minute", type=float, default=10)
    parser.add_argument("--quick-setup", action="store_true", help="the first full syncs under the fast profile")
    args = parser.parse_args()
    figures = run(args.skus, args.minutes * 60, args.mode, args.orders_per_minute, args.quick_setup)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"lag-{args.mode}-{args.skus}.json"
    out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
