"""``inventory-wix-sync``: seed 002's ``POST /warehouse/sync-wix/`` and ``GET …/status/{task_id}``,
the Dagster way, for scripts and cron users.

    inventory-wix-sync                      # submit the Wix push, wait, print the statistics (JSON)
    inventory-wix-sync --no-wait            # submit only; prints {"run_id": ...}
    inventory-wix-sync --status RUN_ID      # status and statistics of an earlier run

It talks to the Dagster webserver's GraphQL API (``--url``, default ``http://127.0.0.1:3000``). The
exit code is 0 when the run succeeded (or was only submitted), 1 when it failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from urllib.parse import urlparse

import requests
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

JOB = "wix_stock_push_job"
LOCATION = "inventory_pipeline"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
RUN_QUERY = """
query RunStatistics($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      assetMaterializations {
        assetKey { path }
        metadataEntries {
          label
          ... on IntMetadataEntry { intValue }
          ... on FloatMetadataEntry { floatValue }
          ... on BoolMetadataEntry { boolValue }
          ... on TextMetadataEntry { text }
        }
      }
    }
    ... on PythonError { message }
    ... on RunNotFoundError { message }
  }
}
"""
SEED_FIELDS = (
    "total_products",
    "found_in_wix",
    "updates_prepared",
    "not_found_in_wix",
    "unknown_in_wix",
    "updated_in_wix",
    "errors",
    "updates_executed",
    "verified",
    "duration_seconds",
)


def _value(entry: dict) -> object:
    for key in ("intValue", "floatValue", "boolValue", "text"):
        if key in entry:
            return entry[key]
    return None


def run_statistics(url: str, run_id: str) -> dict:
    """Status of a run and the Wix statistics its materializations reported (seed 002's names)."""
    answer = requests.post(
        f"{url.rstrip('/')}/graphql", json={"query": RUN_QUERY, "variables": {"runId": run_id}}, timeout=30
    )
    answer.raise_for_status()
    run = answer.json()["data"]["runOrError"]
    if run["__typename"] != "Run":
        raise LookupError(run.get("message") or f"no run {run_id}")
    stats: dict[str, object] = {}
    for materialization in run["assetMaterializations"]:
        for entry in materialization["metadataEntries"]:
            if entry["label"] in SEED_FIELDS:
                stats[entry["label"]] = _value(entry)
    return {"run_id": run_id, "status": run["status"], "ready": run["status"] in FINISHED, "result": stats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inventory-wix-sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the Dagster webserver")
    parser.add_argument("--status", metavar="RUN_ID", help="report on an earlier run instead of submitting")
    parser.add_argument("--no-wait", action="store_true", help="submit and return at once")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the run")
    args = parser.parse_args(argv)
    if args.status:
        try:
            result = run_statistics(args.url, args.status)
        except (LookupError, requests.RequestException) as exc:
            print(f"inventory-wix-sync: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(result, ensure_ascii=False))
        return 0 if result["status"] != "FAILURE" else 1
    parsed = urlparse(args.url)
    client = DagsterGraphQLClient(
        parsed.hostname or "127.0.0.1", port_number=parsed.port, use_https=parsed.scheme == "https"
    )
    try:
        run_id = client.submit_job_execution(JOB, repository_location_name=LOCATION)
    except DagsterGraphQLClientError as exc:
        print(f"inventory-wix-sync: could not submit {JOB} to {args.url}: {exc}", file=sys.stderr)
        return 1
    if args.no_wait:
        print(json.dumps({"run_id": run_id, "status": "SUBMITTED"}))
        return 0
    deadline = time.monotonic() + args.timeout
    result = run_statistics(args.url, run_id)
    while not result["ready"] and time.monotonic() < deadline:
        time.sleep(1)
        result = run_statistics(args.url, run_id)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["status"] == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
