"""Seed 002's trigger-and-status endpoints, the Dagster way: a real webserver, its GraphQL API,
and the ``inventory-wix-sync`` command a cron user would call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from inventory_pipeline.settings import PROJECT_ROOT
from inventory_pipeline_tests.conftest import make_pipeline
from inventory_pipeline_tests.servers import dagster_process

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
    with dagster_process("dagster-webserver", env=env, cwd=PROJECT_ROOT) as url:
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
