"""Seed 002's trigger-and-status endpoints, the Dagster way: a real webserver, its GraphQL API,
and the ``inventory-wix-sync`` command a cron user would call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests
from dagster import DagsterInstance

from inventory_pipeline.settings import PROJECT_ROOT
from inventory_pipeline_tests.support.pipeline import make_pipeline
from inventory_pipeline_tests.support.servers import dagster_process, free_port, nginx_front

CLI = str(Path(sys.executable).with_name("inventory-wix-sync"))


def test_submit_wait_and_read_the_statistics(monkeypatch, sandbox, sqlite_url, tmp_path):
    pipeline = make_pipeline(
        monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v1", WIX_MAX_ZERO_SHARE="0.9", WIX_MAX_TOTAL_CHANGE="5"
    )
    assert pipeline.run("stock_sync_ozon").success
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster._core.run_coordinator\n"
        "  class: DefaultRunCoordinator\ntelemetry:\n  enabled: false\n"
    )
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    with (
        dagster_process("dagster-webserver", env=env, cwd=PROJECT_ROOT) as webserver,
        nginx_front(webserver, {"operator": "s3cret-pass"}, tmp_path / "nginx") as url,
    ):
        refused = subprocess.run([CLI, "--url", url, "--no-wait"], capture_output=True, text=True, timeout=60, env=env)
        assert refused.returncode == 1 and "DAGSTER_WEBSERVER_USER" in refused.stderr
        env = {**env, "DAGSTER_WEBSERVER_USER": "operator", "DAGSTER_WEBSERVER_PASSWORD": "s3cret-pass"}
        submitted = subprocess.run(
            [CLI, "--url", url, "--timeout", "180"], capture_output=True, text=True, timeout=240, env=env
        )
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr
        result = json.loads(submitted.stdout)
        assert result["status"] == "SUCCESS" and result["ready"] is True
        stats = result["result"]
        assert stats["found_in_wix"] > 0 and stats["errors"] == 0
        assert stats["updated_in_wix"] == stats["updates_executed"] == stats["updates_prepared"]
        again = subprocess.run(
            [CLI, "--url", url, "--status", result["run_id"]], capture_output=True, text=True, timeout=60, env=env
        )
        assert json.loads(again.stdout) == result
        missing = subprocess.run(
            [CLI, "--url", url, "--status", "00000000-0000-0000-0000-000000000000"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert missing.returncode != 0


LAUNCH = (
    'mutation { launchRun(executionParams: {selector: {repositoryLocationName: "inventory_pipeline", '
    'repositoryName: "__repository__", jobName: "wix_stock_push_job"}, runConfigData: {}}) { __typename } }'
)


def test_the_documented_front_refuses_unauthenticated_and_cross_site_mutations(monkeypatch, tmp_path):
    """deploy/nginx in front of a real webserver: no password, a mutation by GET, or a foreign
    Origin never reaches Dagster, which would launch a Wix push for any of them."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    with (
        dagster_process("dagster-webserver", env=env, cwd=PROJECT_ROOT) as webserver,
        nginx_front(webserver, {"operator": "s3cret-pass"}, tmp_path / "nginx") as url,
    ):
        graphql, auth = f"{url}/graphql", ("operator", "s3cret-pass")
        assert requests.post(graphql, json={"query": LAUNCH}, timeout=30).status_code == 401
        assert requests.get(graphql, params={"query": LAUNCH}, timeout=30).status_code == 405  # before the password
        assert requests.get(f"{url}/server_info", timeout=30).status_code == 401
        assert requests.get(graphql, params={"query": LAUNCH}, auth=auth, timeout=30).status_code == 405
        # Disguised: an escaped letter, or the mutation in a second query= (Dagster reads the last one).
        disguised = LAUNCH.replace("mutation", "%6Dutation", 1)
        assert requests.get(f"{graphql}?query={disguised}", auth=auth, timeout=30).status_code == 405
        assert requests.get(graphql, params=[("query", "{ version }"), ("query", LAUNCH)], auth=auth).status_code == 405
        foreign = {"Origin": "https://evil.example"}
        assert requests.post(graphql, json={"query": LAUNCH}, headers=foreign, auth=auth, timeout=30).status_code == 403
        own = requests.post(graphql, json={"query": "{ version }"}, headers={"Origin": url}, auth=auth, timeout=30)
        assert own.status_code == 200 and own.json()["data"]["version"]
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with DagsterInstance.get() as instance:
            assert instance.get_runs() == []  # none of the refused requests reached Dagster
        # Dagster itself runs a mutation sent by GET from a foreign page: what the front is for.
        direct = requests.get(f"{webserver}/graphql", params={"query": LAUNCH}, headers=foreign, timeout=30)
        assert "launchRun" in direct.json()["data"]


def test_an_unreachable_webserver_is_said_plainly():
    done = subprocess.run(
        [CLI, "--url", f"http://127.0.0.1:{free_port()}", "--no-wait"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "connection refused" in done.stderr and "query" not in done.stderr.lower()


def test_credentials_come_from_the_environment(monkeypatch):
    from inventory_pipeline.defs.wix.cli import credentials

    for name in ("DAGSTER_WEBSERVER_TOKEN", "DAGSTER_WEBSERVER_USER", "DAGSTER_WEBSERVER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert credentials() == {}
    monkeypatch.setenv("DAGSTER_WEBSERVER_USER", "operator")
    monkeypatch.setenv("DAGSTER_WEBSERVER_PASSWORD", "s3cret-pass")
    assert credentials() == {"Authorization": "Basic b3BlcmF0b3I6czNjcmV0LXBhc3M="}
    monkeypatch.setenv("DAGSTER_WEBSERVER_TOKEN", "tok-123")
    assert credentials() == {"Authorization": "Bearer tok-123"}
