"""The Dagster UI as a person uses it: Debian's Chromium driven by Playwright against `dagster dev`
(webserver and daemon) on this project and the sandbox. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from inventory_pipeline.settings import PROJECT_ROOT
from inventory_pipeline_tests.support.ledger_views import assert_ledger_matches
from inventory_pipeline_tests.support.servers import dagster_process
from marketplace_sandbox.env import sandbox_env

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
RUNS_QUERY = """{ runsOrError(filter: {pipelineName: "stock_sync_all_sources"}) {
  ... on Runs { results { runId status tags { key value } } } } }"""


@pytest.fixture
def dagster_ui(sandbox, sqlite_url, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        **sandbox_env(sandbox.url),
        "INVENTORY_DB_URL": sqlite_url,
        "DAGSTER_HOME": str(home),
        "SCHEDULES_RUNNING": "0",
        "API_RETRY_DELAY": "0.05",
    }
    for name in [k for k in env if k.startswith(("WIX_SITE", "HAIER_"))]:
        env.pop(name)
    with dagster_process("dagster", "dev", env=env, cwd=PROJECT_ROOT) as url:
        yield url


def runs(url: str) -> list[dict]:
    answer = requests.post(f"{url}/graphql", json={"query": RUNS_QUERY}, timeout=30).json()
    return answer["data"]["runsOrError"]["results"]


def test_launch_the_sync_from_the_ui_and_see_the_ledger(dagster_ui, sandbox, sqlite_url):
    from playwright.sync_api import expect, sync_playwright

    from inventory_pipeline.db.engine import make_engine

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
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{dagster_ui}/asset-groups", wait_until="networkidle")
        clear_overlays(page, "1-overlay-on-arrival.png")
        for group in ("marketplace_snapshots", "inventory", "monitoring", "sales", "supplier", "wix"):
            expect(page.get_by_text(group, exact=True).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "1-asset-groups.png"))

        page.goto(f"{dagster_ui}/locations/inventory_pipeline/jobs/stock_sync_all_sources", wait_until="networkidle")
        clear_overlays(page, "2-overlay-before-launch.png")
        page.get_by_role("button", name="Materialize all…").click()
        page.wait_for_timeout(3000)
        page.screenshot(path=str(ARTIFACTS / "2-dialog-opened.png"))
        dialog = page.locator("[role=dialog]")
        dialog.get_by_text("All", exact=True).click()
        expect(dialog.get_by_text("2 partitions")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "2-launch-dialog.png"))
        dialog.get_by_role("button", name="Launch backfill").click()

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            finished = [r for r in runs(dagster_ui) if r["status"] in {"SUCCESS", "FAILURE", "CANCELED"}]
            if len(finished) >= 2:
                break
            time.sleep(2)
        assert sorted(r["status"] for r in runs(dagster_ui)) == ["SUCCESS", "SUCCESS"]
        page.goto(f"{dagster_ui}/runs", wait_until="networkidle")
        page.get_by_text("Show runs within backfills").click()
        expect(page.get_by_text("Success").first).to_be_visible(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "3-runs.png"))

        page.goto(f"{dagster_ui}/assets/inventory_data", wait_until="networkidle")
        expect(page.get_by_text("inventory_data").first).to_be_visible()
        expect(page.get_by_text("Row count").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "4-inventory-data.png"))
        page.goto(f"{dagster_ui}/assets/inventory_data?view=checks", wait_until="networkidle")
        expect(page.get_by_text("no_negative_stock").first).to_be_visible()
        expect(page.get_by_text("fresh_per_source").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "5-inventory-data-checks.png"))
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
