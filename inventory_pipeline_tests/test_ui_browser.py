"""The Dagster UI as an operator uses it: Debian's Chromium driven by Playwright against `dagster dev`
(webserver and daemon) on this project and the sandbox, behind the front `make ui` runs (a password,
no mutation by GET, no write from a foreign page). One walk through what the operator looks at, a
screenshot of each in test-artifacts/ui/."""

from __future__ import annotations

import html
import os
import time
from pathlib import Path

import pytest
import requests

from inventory_pipeline.settings import PROJECT_ROOT
from inventory_pipeline_tests.support.ledger_views import assert_ledger_matches
from inventory_pipeline_tests.support.servers import dagster_process, free_port, nginx_front
from marketplace_sandbox.env import sandbox_env

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
OPERATOR = ("operator", "a-local-password")
RUNS_QUERY = """{ runsOrError { ... on Runs { results { runId jobName status tags { key value } } } } }"""
LAUNCH = """mutation($job: String!, $tags: [ExecutionTag!]) { launchRun(executionParams: {
  selector: {repositoryLocationName: "inventory_pipeline", repositoryName: "__repository__", jobName: $job},
  executionMetadata: {tags: $tags}}) { __typename ... on LaunchRunSuccess { run { runId } } } }"""


@pytest.fixture
def dagster_ui(sandbox, sqlite_url, tmp_path):
    """(the front's URL, the report folder) of `dagster dev` behind the local front."""
    home = tmp_path / "home"
    home.mkdir()
    reports = tmp_path / "reports"
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        **sandbox_env(sandbox.url),
        "INVENTORY_DB_URL": sqlite_url,
        "DAGSTER_HOME": str(home),
        "SCHEDULES_RUNNING": "0",
        "API_RETRY_DELAY": "0.05",
        "REPORT_DIR": str(reports),
    }
    for name in [k for k in env if k.startswith(("WIX_SITE", "HAIER_"))]:
        env.pop(name)
    with (
        dagster_process("dagster", "dev", env=env, cwd=PROJECT_ROOT) as url,
        nginx_front(url, dict([OPERATOR]), tmp_path / "front", reports=reports) as front,
    ):
        yield front


def graphql(front: str, query: str, variables: dict | None = None) -> dict:
    answer = requests.post(
        f"{front}/graphql",
        json={"query": query, "variables": variables or {}},
        auth=OPERATOR,
        headers={"Origin": front},
        timeout=60,
    )
    answer.raise_for_status()
    return answer.json()["data"]


def runs(front: str) -> list[dict]:
    return graphql(front, RUNS_QUERY)["runsOrError"]["results"]


def launch(front: str, job: str, partition: str | None = None) -> str:
    tags = [{"key": "dagster/partition", "value": partition}] if partition else []
    answer = graphql(front, LAUNCH, {"job": job, "tags": tags})["launchRun"]
    assert answer["__typename"] == "LaunchRunSuccess", answer
    return answer["run"]["runId"]


def finished(front: str, run_ids: set[str], timeout: float = 300) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = {r["runId"]: r["status"] for r in runs(front) if r["runId"] in run_ids}
        if len(status) == len(run_ids) and all(s in {"SUCCESS", "FAILURE", "CANCELED"} for s in status.values()):
            return status
        time.sleep(2)
    raise AssertionError(f"runs did not finish: {status}")


def test_an_operator_walks_through_the_ui(dagster_ui, sandbox, sqlite_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from inventory_pipeline.db.engine import make_engine

    front = dagster_ui
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it (make chromium)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(
            viewport={"width": 1400, "height": 900}, http_credentials=dict(username=OPERATOR[0], password=OPERATOR[1])
        )
        page = context.new_page()
        page.set_default_timeout(60_000)

        # Groups that say what they hold.
        page.goto(f"{front}/asset-groups", wait_until="networkidle")
        clear_overlays(page, "1-overlay-on-arrival.png")
        for group in ("marketplace_snapshots", "inventory", "monitoring", "operations", "sales", "supplier"):
            expect(page.get_by_text(group, exact=True).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "1-asset-groups.png"))

        # The main job from its page, every account.
        page.goto(f"{front}/locations/inventory_pipeline/jobs/stock_sync_all_sources", wait_until="networkidle")
        clear_overlays(page, "2-overlay-before-launch.png")
        page.get_by_role("button", name="Materialize all…").click()
        dialog = page.locator("[role=dialog]")
        dialog.get_by_text("All", exact=True).click()
        expect(dialog.get_by_text("2 partitions")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "2-launch-dialog.png"))
        dialog.get_by_role("button", name="Launch backfill").click()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            synced = [r for r in runs(front) if r["jobName"] == "stock_sync_all_sources"]
            if len(synced) == 2 and all(r["status"] in {"SUCCESS", "FAILURE"} for r in synced):
                break
            time.sleep(2)
        assert sorted(r["status"] for r in synced) == ["SUCCESS", "SUCCESS"]

        # The ledger: its columns, the sync's largest changes, who owns it; checks per account.
        page.goto(f"{front}/assets/inventory_data?partition=main", wait_until="networkidle")
        expect(page.get_by_text("stock-operations").first).to_be_visible()
        expect(page.get_by_text("current_stock").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "3-inventory-data.png"), full_page=True)
        page.goto(f"{front}/assets/inventory_data?view=checks", wait_until="networkidle")
        page.get_by_text("no_negative_stock", exact=True).first.click()
        expect(page.get_by_text("Partition").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "4-inventory-data-checks-per-account.png"))
        page.goto(f"{front}/assets/wb_ledger_slice?partition=main", wait_until="networkidle")
        expect(page.get_by_text("largest_changes").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "5-wb-ledger-slice.png"), full_page=True)
        page.goto(f"{front}/assets/stock_events?partition=main", wait_until="networkidle")
        expect(page.get_by_text("low_on_stock").first).to_be_visible()
        expect(page.get_by_text("recorded_only", exact=True).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "6-stock-events.png"), full_page=True)
        page.goto(f"{front}/assets/stock_anomalies?view=checks", wait_until="networkidle")
        page.screenshot(path=str(ARTIFACTS / "7-anomalies-check.png"))

        # A rejection looks rejected: the snapshot is no materialization, its checks are red, and its
        # slice, the ledger and everything after did not run.
        requests.put(
            f"{sandbox.url}/_sandbox/faults", json={"spec": "empty@/ozon/v4/product/info/stocks"}, timeout=10
        ).raise_for_status()
        rejected = launch(front, "stock_sync_ozon", "main")
        assert finished(front, {rejected}) == {rejected: "FAILURE"}
        requests.put(f"{sandbox.url}/_sandbox/faults", json={"spec": ""}, timeout=10).raise_for_status()
        page.goto(f"{front}/runs/{rejected}", wait_until="networkidle")
        expect(page.get_by_text("rejected").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "8-rejected-run.png"))
        page.goto(f"{front}/assets/ozon_stock_snapshot?view=checks", wait_until="networkidle")
        page.get_by_text("enough_products", exact=True).first.click()
        expect(page.get_by_text("Failed").first).to_be_visible()
        expect(page.get_by_text("blocking").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "9-rejected-snapshot-checks.png"))

        # Health on a page, and the weekly chart where the eye lands.
        health, weekly = launch(front, "health_check"), launch(front, "weekly_report_job")
        done = finished(front, {health, weekly})
        assert done[weekly] == "SUCCESS"  # health fails: no daemon beats in a test, the check says so
        page.goto(f"{front}/assets/service_health?view=checks", wait_until="networkidle")
        expect(page.get_by_text("main_credentials").first).to_be_visible()
        expect(page.get_by_text("second_recent_syncs").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "10-service-health-checks.png"))
        page.goto(f"{front}/assets/weekly_report", wait_until="networkidle")
        chart = page.locator("img[alt^='The week']").first
        expect(chart).to_be_visible()
        assert chart.evaluate("img => img.complete && img.naturalWidth > 300")  # the picture itself, loaded
        page.screenshot(path=str(ARTIFACTS / "11-weekly-report.png"), full_page=True)

        # A foreign page cannot start a run through the UI, not even with the operator's password
        # in the browser: an <img> sends a GET mutation, a form a cross-site POST.
        before = len(runs(front))
        evil_port = free_port()
        evil = tmp_path / "evil"
        evil.mkdir()
        # A text/plain form posts "name=value": the name carries a JSON body with a real launch.
        body_start = '{"query": "mutation { launchRun(executionParams: {selector: {repositoryLocationName: ' + (
            '\\"inventory_pipeline\\", repositoryName: \\"__repository__\\", jobName: \\"health_check\\"}}) '
            '{ __typename } }", "x": "'
        )
        (evil / "index.html").write_text(
            f"""<img src="{front}/graphql?query={requests.utils.quote(LAUNCH)}">
<form id=f method=post action="{front}/graphql" enctype="text/plain">
<input name="{html.escape(body_start)}" value='"}}'></form>
<script>document.getElementById('f').submit()</script>"""
        )
        import subprocess
        import sys

        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(evil_port), "--bind", "127.0.0.1", "-d", str(evil)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1)
            page.goto(f"http://127.0.0.1:{evil_port}/index.html")
            page.wait_for_timeout(3000)
            page.screenshot(path=str(ARTIFACTS / "12-foreign-page-refused.png"))
        finally:
            server.terminate()
        assert len(runs(front)) == before
        browser.close()

    engine = make_engine(sqlite_url)
    for account in ("main", "second"):
        truth = requests.get(f"{sandbox.url}/_sandbox/truth/ozon", params={"account": account}, timeout=10).json()
        assert_ledger_matches(engine, truth, "ozon", account)


def clear_overlays(page, name: str) -> None:
    """Dagster's UI may open a welcome or news dialog on its own, late; it is not what is tested.
    Dismiss it (and keep a screenshot of it), so that the launch dialog is the one open."""
    from playwright.sync_api import expect

    page.wait_for_timeout(1000)
    backdrop = page.locator(".bp5-overlay-backdrop")
    if not backdrop.count():
        return
    page.screenshot(path=str(ARTIFACTS / name))
    for label in ("Skip", "Dismiss", "Got it", "Close"):
        button = page.get_by_role("button", name=label)
        if button.count() and button.first.is_visible():
            button.first.click()
            break
    else:
        page.keyboard.press("Escape")
    expect(backdrop).to_have_count(0, timeout=10_000)
