"""Stock syncs under the sandbox's ``real`` profile (the published rate limits): answers 429
provoked, and the WB step of the next sync an hour later when it lists only the cards changed
since against one that lists every card (each card listing's floor: 100 calls a minute after a
burst of 5).

``python -m benchmarks.pacing --skus 20000 [--accounts main,second] [--pacing none]`` (``none``: the
client as it was before it paced itself, for the comparison); SQLite, in-process steps, so
the figures are the clients' pacing and nothing else. One run on a shared machine: read ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.harness import RESULTS, sandbox_process

CARDS = "POST /wb/content/content/v2/get/cards/list"
CARDS_PER_MINUTE, CARDS_BURST = 100, 5


def card_listing_floor(pages: int) -> float:
    """The seconds WB's content limit makes ``pages`` card pages take."""
    return max(0, pages - CARDS_BURST) * 60 / CARDS_PER_MINUTE


def run(skus: int, accounts: list[str], pacing: str) -> dict:
    from marketplace_sandbox.env import sandbox_env

    with sandbox_process(skus, profile="real") as url, tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'inventory.db'}"
        env = {k: v for k, v in sandbox_env(url).items() if not k.startswith(("WIX_SITE", "HAIER_"))}
        os.environ.update(env)
        os.environ.update(
            {
                "SELLER_ACCOUNTS": ",".join(accounts),
                "INVENTORY_DB_URL": db_url,
                "MIN_PRODUCTS_THRESHOLD": "1",
                "MARKETPLACE_PACING": pacing,
            }
        )
        from dagster import DagsterInstance

        from inventory_pipeline.db.engine import make_engine, migrate
        from inventory_pipeline.definitions import build_definitions
        from inventory_pipeline.settings import load_settings

        migrate(make_engine(db_url))
        job = build_definitions(load_settings()).resolve_job_def("stock_sync_all_sources")
        figures: dict = {"skus": skus, "pacing": pacing, "accounts": {}}
        relist = {"ops": {"wb_stock_snapshot": {"config": {"list_all_cards": True}}}}

        def sync(instance, account: str, config: dict | None = None) -> dict:
            requests.delete(f"{url}/_sandbox/calls", timeout=10).raise_for_status()
            started = time.perf_counter()
            result = job.execute_in_process(partition_key=account, instance=instance, run_config=config or {})
            seconds = time.perf_counter() - started
            steps = {
                e.step_key: round(e.event_specific_data.duration_ms / 1000, 1)
                for e in result.all_events
                if e.event_type_value == "STEP_SUCCESS"
            }
            calls = requests.get(f"{url}/_sandbox/calls", timeout=60).json()
            throttled = requests.get(f"{url}/_sandbox/throttled", timeout=60).json()
            # Every card call that was not refused fetched a page.
            pages = calls.get(CARDS, 0) - sum(n for k, n in throttled.items() if k.endswith("/content"))
            floor = card_listing_floor(pages)
            return {
                "success": result.success,
                "seconds": round(seconds, 1),
                "steps": steps,
                "calls": sum(calls.values()),
                "answers_429": sum(throttled.values()),
                "throttled_by_bucket": throttled,
                "card_pages": pages,
                "card_listing_floor_seconds": round(floor, 1),
            }

        with DagsterInstance.ephemeral() as instance:
            for account in accounts:
                first = sync(instance, account)
                # An hour later: orders, restocks and two in a hundred cards edited.
                requests.post(f"{url}/_sandbox/advance", json={"hours": 1}, timeout=600).raise_for_status()
                changed_cards = sync(instance, account)
                every_card = sync(instance, account, relist)
                wb = "wb_stock_snapshot"
                figures["accounts"][account] = {
                    "first_sync": first,
                    "next_sync_changed_cards": changed_cards,
                    "next_sync_every_card": every_card,
                    "wb_step_changed_over_every_card": round(changed_cards["steps"][wb] / every_card["steps"][wb], 3),
                }
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--accounts", default="main")
    parser.add_argument("--pacing", default="published", choices=["published", "none"])
    args = parser.parse_args()
    figures = run(args.skus, args.accounts.split(","), args.pacing)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"pacing-{args.skus}-{args.pacing}.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
