"""Wix push at 10,000 SKUs with 1 % changed: read and write calls against the minimum, zero writes
when nothing changed, wall time; beside the seed design's one-call-per-item count.

``python -m benchmarks.wix_push [--skus 10000]`` — sandbox (fast profile) and SQLite, one run.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time

import requests
from sqlalchemy import select, update

from benchmarks.harness import sandbox_process

WRITES = ("increment", "decrement", "bulk/inventory-items/update")


def calls(url: str) -> tuple[int, int]:
    made = requests.get(f"{url}/_sandbox/calls", timeout=10).json()
    wix = {k: n for k, n in made.items() if " /wix/" in k}
    writes = sum(n for k, n in wix.items() if k.endswith(WRITES))
    return sum(wix.values()) - writes, writes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    args = parser.parse_args()
    from marketplace_sandbox.env import sandbox_env

    for site in ("site-v1", "site-v3"):
        with sandbox_process(args.skus) as url, tempfile.TemporaryDirectory() as folder:
            os.environ.update(sandbox_env(url))
            os.environ.update(
                {"SELLER_ACCOUNTS": "main", "WIX_SITE_ID": site, "INVENTORY_DB_URL": f"sqlite:///{folder}/inventory.db"}
            )
            from dagster import DagsterInstance

            from inventory_pipeline.db.engine import make_engine, migrate
            from inventory_pipeline.db.tables import inventory_data
            from inventory_pipeline.definitions import build_definitions
            from inventory_pipeline.settings import load_settings

            engine = make_engine(os.environ["INVENTORY_DB_URL"])
            migrate(engine)
            defs = build_definitions(load_settings())
            confirm = {"ops": {"wix_stock_push": {"config": {"confirm_large_change": True}}}}
            with DagsterInstance.ephemeral() as instance:
                assert (
                    defs.resolve_job_def("stock_sync_all_sources")
                    .execute_in_process(partition_key="main", instance=instance, run_config=confirm)
                    .success
                )
                push = defs.resolve_job_def("wix_stock_push_job")
                with engine.begin() as conn:  # 1 % of the SKUs move on the seller's own warehouses
                    skus = sorted(set(conn.execute(select(inventory_data.c.sku)).scalars()))
                    moved = skus[::100]
                    conn.execute(
                        update(inventory_data)
                        .where(inventory_data.c.sku.in_(moved), inventory_data.c.stock_type == "fbs")
                        .values(available_stock=inventory_data.c.available_stock + 7)
                    )
                requests.delete(f"{url}/_sandbox/calls", timeout=10)
                started = time.perf_counter()
                result = push.execute_in_process(instance=instance)
                seconds = time.perf_counter() - started
                plan = result.asset_materializations_for_node("wix_stock_plan")[0].metadata
                reads, writes = calls(url)
                requests.delete(f"{url}/_sandbox/calls", timeout=10)
                idle = push.execute_in_process(instance=instance)
                idle_reads, idle_writes = calls(url)
            changed = plan["updates_prepared"].value
            found = plan["found_in_wix"].value
            variants = found + plan["unknown_in_wix"].value
            products_pages = math.ceil(variants / 100)
            minimum_reads = math.ceil(args.skus / 100)
            cap = 300 if site == "site-v1" else 1000
            seed = math.ceil(args.skus / 100) + found + changed
            print(
                f"{site}: {args.skus} SKUs, {found} in Wix, {changed} changed; push {seconds:.1f} s, "
                f"success {result.success}, idle success {idle.success}"
            )
            print(
                f"  read calls {reads} vs minimum ceil(SKUs/100) = {minimum_reads} lookups "
                f"(+ inventory re-reads); catalogue pages {products_pages}"
            )
            print(
                f"  write calls {writes} vs ceil(changed/{cap}) = {math.ceil(changed / cap)}; "
                f"unchanged re-run: {idle_writes} writes, {idle_reads} reads"
            )
            print(
                f"  seed design (lookup batches + one read and one write per item): {seed} calls "
                f"vs {reads + writes} here = {seed / (reads + writes):.0f}x fewer"
            )


if __name__ == "__main__":
    main()
