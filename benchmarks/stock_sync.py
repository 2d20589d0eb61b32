"""Full stock sync, sandbox (fast profile) → MariaDB: wall time, rows/s, API calls against the
minimum, peak memory, and the ledger write stage against a ``LOAD DATA LOCAL INFILE`` floor.

``python -m benchmarks.stock_sync --skus 10000 100000`` (each size in a fresh process, so its peak
memory is its own). Figures are from one run on a shared machine: read them as ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.harness import RESULTS, mariadb, sandbox_process


def minimum_calls(url: str) -> dict[str, int]:
    """Pages a complete read needs, from the sandbox's own truth."""
    ozon = requests.get(f"{url}/_sandbox/truth/ozon", timeout=600).json()
    wb = requests.get(f"{url}/_sandbox/truth/wb", timeout=600).json()
    products = requests.post(
        f"{url}/ozon/v3/product/list",
        timeout=60,
        json={"filter": {}, "limit": 1},
        headers={"Client-Id": "1001", "Api-Key": "sandbox-ozon-key-main"},
    ).json()
    ozon_items = products["result"]["total"]
    cards = len({r["sku"] for r in wb})
    del ozon
    return {
        "POST /ozon/v4/product/info/stocks": max(1, math.ceil(ozon_items / 1000)),
        "POST /wb/content/content/v2/get/cards/list": cards // 100 + 1,  # the last page is the short one
        # the warehouse-remains report: one task, one status call (the fast profile builds it at once), one download
        "GET /wb/analytics/api/v1/warehouse_remains": 1,
        "GET /wb/analytics/api/v1/warehouse_remains/tasks/{id}/status": 1,
        "GET /wb/analytics/api/v1/warehouse_remains/tasks/{id}/download": 1,
        "GET /wb/marketplace/api/v3/warehouses": 1,
        "POST /wb/marketplace/api/v3/stocks/{id}": 2 * math.ceil(cards / 1000),
    }


def run_size(skus: int, buffer_pool: str) -> dict:
    with sandbox_process(skus) as url, mariadb(buffer_pool) as server:
        db_url = server.create_database("inventory")
        floor_url = server.create_database("floor")
        launched_url = server.create_database("launched")
        requests.delete(f"{url}/_sandbox/calls", timeout=10)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            env = {**os.environ, "BENCH_OUT": out.name}
            subprocess.run(
                [sys.executable, "-m", "benchmarks.sync_child", url, db_url, floor_url, launched_url],
                check=True,
                env=env,
                timeout=3600,
            )
            figures = json.loads(Path(out.name).read_text())
        made = {}
        for key, count in figures.pop("calls").items():  # the full sync's calls, counted by the child
            made_key = key
            if "/api/v3/stocks/" in key:
                made_key = "POST /wb/marketplace/api/v3/stocks/{id}"
            elif "/warehouse_remains/tasks/" in key:
                made_key = f"GET /wb/analytics/api/v1/warehouse_remains/tasks/{{id}}/{key.rsplit('/', 1)[1]}"
            made[made_key] = made.get(made_key, 0) + count
        figures["api_calls"] = made
        figures["api_calls_minimum"] = minimum_calls(url)
        figures["skus"] = skus
        figures["buffer_pool"] = buffer_pool
    return figures


def report(f: dict) -> str:
    made, minimum = sum(f["api_calls"].values()), sum(f["api_calls_minimum"].values())
    lines = [
        f"{f['skus']} SKUs per marketplace: {f['ledger_rows']} ledger rows (MariaDB buffer pool {f['buffer_pool']})",
        f"  end to end {f['job_seconds']:.1f} s ({f['ledger_rows'] / f['job_seconds']:.0f} rows/s); steps: "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in f["steps"].items()),
        f"  API calls {made} / minimum {minimum} = {made / minimum:.2f}",
        f"  as launched (multiprocess executor, each step in its own process): {f['launched_seconds']:.1f} s = "
        f"{f['launched_seconds'] / f['job_seconds']:.2f} of the in-process run; largest step process "
        f"{f['launched_peak_mb']:.0f} MB",
        f"  re-sync an hour later: {f['resync_changed_rows']} rows changed "
        f"({f['resync_changed_rows'] / f['ledger_rows']:.1%}), {f['resync_written_rows']} written; "
        f"{f['resync_seconds']:.1f} s = {f['resync_seconds'] / f['job_seconds']:.2f} of the full sync; ledger step "
        f"{f['resync_steps']['inventory_data']:.1f} s = "
        f"{f['resync_steps']['inventory_data'] / f['steps']['inventory_data']:.2f} of the full sync's; steps: "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in f["resync_steps"].items()),
        f"  peak memory {f['peak_mb']:.0f} MB (full sync), {f['resync_peak_mb']:.0f} MB (with the re-sync); per step: "
        + ", ".join(f"{step} {mb:.0f}" for step, mb in f["step_peak_mb"].items())
        + "; re-sync: "
        + ", ".join(f"{step} {mb:.0f}" for step, mb in f["resync_step_peak_mb"].items()),
        f"  write stage {f['write_seconds']:.2f} s vs LOAD DATA floor {f['floor_seconds']:.2f} s: "
        f"{f['floor_seconds'] / f['write_seconds']:.0%} of the floor's speed",
        f"  re-apply of an unchanged snapshot {f['reapply_seconds']:.2f} s",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, nargs="+", default=[10_000, 100_000])
    # The tests' 512 MB holds a 100k ledger; a million-SKU ledger and its snapshots take about 2 GB.
    parser.add_argument("--buffer-pool", default="512M", help="the MariaDB server's innodb_buffer_pool_size")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    for skus in args.skus:
        started = time.monotonic()
        figures = run_size(skus, args.buffer_pool)
        (RESULTS / f"stock_sync_{skus}_{args.buffer_pool}.json").write_text(json.dumps(figures, indent=2))
        print(report(figures), f"\n  (benchmark itself took {time.monotonic() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
