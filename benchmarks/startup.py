"""What a run pays to start its steps: one stock sync (both marketplaces, one account, SQLite, the
sandbox's fast profile) executed as the daemon executes a launched run, with each executor.

- ``spawn``: the multiprocess executor as Dagster sets it up by default, a fresh interpreter per step;
- ``forkserver``: the multiprocess executor whose steps fork from a server that imported the
  project once (``preload_modules``);
- ``in_process``: every step in the run's own process.

``python -m benchmarks.startup --skus 10000 [--repeat 3]``; the figures are the seconds of each,
and each as a ratio to the in-process run. One run on a shared machine: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import RESULTS, sandbox_process

EXECUTORS = {
    "spawn": {"multiprocess": {}},
    "forkserver": {
        "multiprocess": {"start_method": {"forkserver": {"preload_modules": ["inventory_pipeline.definitions"]}}}
    },
    "in_process": {"in_process": {}},
}


def stock_sync_job():
    from inventory_pipeline.definitions import defs

    return defs.resolve_job_def("stock_sync_all_sources")


def run(skus: int, repeat: int) -> dict:
    from dagster import DagsterInstance, execute_job, reconstructable

    from marketplace_sandbox.env import sandbox_env

    figures: dict = {"skus": skus, "seconds": {}}
    with sandbox_process(skus) as url, tempfile.TemporaryDirectory() as folder:
        os.environ.update({k: v for k, v in sandbox_env(url).items() if not k.startswith(("WIX_SITE", "HAIER_"))})
        os.environ.update({"SELLER_ACCOUNTS": "main", "MIN_PRODUCTS_THRESHOLD": "1"})
        from inventory_pipeline.db.engine import make_engine, migrate

        for attempt in range(repeat):
            for name, executor in EXECUTORS.items():
                db_url = f"sqlite:///{Path(folder) / f'{name}-{attempt}.db'}"
                os.environ["INVENTORY_DB_URL"] = db_url
                migrate(make_engine(db_url))
                with DagsterInstance.local_temp() as instance:
                    started = time.perf_counter()
                    result = execute_job(
                        reconstructable(stock_sync_job),
                        instance=instance,
                        tags={"dagster/partition": "main"},
                        run_config={"execution": {"config": executor}},
                    )
                    seconds = time.perf_counter() - started
                assert result.success, name
                figures["seconds"].setdefault(name, []).append(round(seconds, 2))
    median = {name: statistics.median(values) for name, values in figures["seconds"].items()}
    figures["ratio_to_in_process"] = {name: round(v / median["in_process"], 2) for name, v in median.items()}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures = run(args.skus, args.repeat)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"startup-{args.skus}.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
