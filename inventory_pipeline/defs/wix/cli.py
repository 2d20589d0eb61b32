"""``inventory-wix-sync``: the Celery Wix push's ``POST /warehouse/sync-wix/`` and ``GET …/status/{task_id}``,
the Dagster way, for scripts and cron users.

    inventory-wix-sync                      # submit the Wix push, wait, print the statistics (JSON)
    inventory-wix-sync --no-wait            # submit only; prints {"run_id": ...}
    inventory-wix-sync --status RUN_ID      # status and statistics of an earlier run

It talks to the Dagster webserver's GraphQL API (``--url``, default ``http://127.0.0.1:3000``). Behind
the production front (deploy/nginx) it signs in with ``DAGSTER_WEBSERVER_USER`` and
``DAGSTER_WEBSERVER_PASSWORD``, or sends ``DAGSTER_WEBSERVER_TOKEN`` as a bearer token. The exit code
is 0 when the run succeeded (or was only submitted), 1 when it failed or the webserver was unreachable.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time

import requests

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


def credentials() -> dict[str, str]:
    """The Authorization header the front expects, from the environment (never from arguments,
    which other users can read in the process list)."""
    token = os.environ.get("DAGSTER_WEBSERVER_TOKEN", "").strip()
    if token:
        return {"Authorization": f"Bearer {token}"}
    user, password = os.environ.get("DAGSTER_WEBSERVER_USER", ""), os.environ.get("DAGSTER_WEBSERVER_PASSWORD", "")
    if user:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    return {}


class Unreachable(Exception):
    """The webserver did not answer, or refused us; the message says which and what to check."""


def _graphql(url: str, query: str, variables: dict) -> dict:
    try:
        answer = requests.post(
            f"{url.rstrip('/')}/graphql",
            json={"query": query, "variables": variables},
            headers=credentials(),
            timeout=30,
        )
    except requests.ConnectionError:
        raise Unreachable(f"cannot reach the Dagster webserver at {url}: connection refused (is it running?)") from None
    except requests.Timeout:
        raise Unreachable(f"the Dagster webserver at {url} did not answer within 30 s") from None
    if answer.status_code in (401, 403):
        raise Unreachable(
            f"the Dagster webserver at {url} refused us (HTTP {answer.status_code}): set DAGSTER_WEBSERVER_USER "
            "and DAGSTER_WEBSERVER_PASSWORD (or DAGSTER_WEBSERVER_TOKEN)"
        )
    if not answer.ok:
        raise Unreachable(f"the Dagster webserver at {url} answered HTTP {answer.status_code}")
    return answer.json()


def run_statistics(url: str, run_id: str) -> dict:
    """Status of a run and the Wix statistics its materializations reported (the Celery Wix push's names)."""
    answer = _graphql(url, RUN_QUERY, {"runId": run_id})
    run = answer["data"]["runOrError"]
    if run["__typename"] != "Run":
        raise LookupError(run.get("message") or f"no run {run_id}")
    stats: dict[str, object] = {}
    for materialization in run["assetMaterializations"]:
        for entry in materialization["metadataEntries"]:
            if entry["label"] in SEED_FIELDS:
                stats[entry["label"]] = _value(entry)
    return {"run_id": run_id, "status": run["status"], "ready": run["status"] in FINISHED, "result": stats}


LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on UnauthorizedError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
  }
}
"""


def submit(url: str) -> str:
    """Launch the Wix push; its run id."""
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "jobName": JOB},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "inventory/launched_by", "value": "inventory-wix-sync"}]},
    }
    answer = _graphql(url, LAUNCH, {"params": params})
    launched = (answer.get("data") or {}).get("launchRun") or {}
    if launched.get("__typename") != "LaunchRunSuccess":
        errors = (launched.get("errors") or [launched]) if launched else (answer.get("errors") or [])
        raise LookupError("; ".join(str(e.get("message", e)) for e in errors) or "launchRun failed")
    return launched["run"]["runId"]


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
        except (LookupError, Unreachable) as exc:
            print(f"inventory-wix-sync: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(result, ensure_ascii=False))
        return 0 if result["status"] != "FAILURE" else 1
    try:
        run_id = submit(args.url)
    except (Unreachable, LookupError) as exc:
        print(f"inventory-wix-sync: could not submit {JOB}: {exc}", file=sys.stderr)
        return 1
    if args.no_wait:
        print(json.dumps({"run_id": run_id, "status": "SUBMITTED"}))
        return 0
    deadline = time.monotonic() + args.timeout
    try:
        result = run_statistics(args.url, run_id)
        while not result["ready"] and time.monotonic() < deadline:
            time.sleep(1)
            result = run_statistics(args.url, run_id)
    except (LookupError, Unreachable) as exc:
        print(f"inventory-wix-sync: run {run_id} submitted, then: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["status"] == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
