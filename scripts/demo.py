"""`make demo`: start the marketplace sandbox, migrate the embedded SQLite ledger and run the main
job (all sources, every seller account) end to end, then print what happened."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from marketplace_sandbox.env import sandbox_env
from marketplace_sandbox.server import wait_until_up

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    port = int(os.environ.get("SANDBOX_PORT") or free_port())
    url = f"http://127.0.0.1:{port}"
    sandbox = subprocess.Popen(
        [
            *(sys.executable, "-m", "marketplace_sandbox", "--port", str(port)),
            *("--skus", "300", "--profile", "real", "--wix-in-sync"),
        ],
        cwd=ROOT,
    )
    try:
        wait_until_up(url)
        os.environ.update(sandbox_env(url))
        os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        instance_yaml = Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml"
        if not instance_yaml.exists():
            shutil.copy(ROOT / "dagster.yaml", instance_yaml)  # the embedded default

        from dagster import DagsterInstance

        from inventory_pipeline.db.engine import database_url, make_engine, migrate
        from inventory_pipeline.definitions import defs
        from inventory_pipeline.defs.operations.summary import ledger_summary, wix_summary

        engine = make_engine(database_url())
        migrate(engine)
        instance = DagsterInstance.get()
        job = defs.resolve_job_def("stock_sync_all_sources")
        ok = True
        for account in job.partitions_def.get_partition_keys():
            result = job.execute_in_process(
                partition_key=account,
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            )
            ok &= result.success
            checks = result.get_asset_check_evaluations()
            passed = sum(1 for c in checks if c.passed)
            print(
                f"run {result.run_id[:8]} account '{account}': {'success' if result.success else 'FAILED'}, "
                f"{passed}/{len(checks)} checks passed"
            )
            for check in checks:
                if not check.passed:
                    print(f"  check {check.asset_key.to_user_string()}.{check.check_name} failed: {check.description}")
            for failure in result.get_step_failure_events():
                print(f"  step {failure.step_key} failed: {failure.event_specific_data.error.message.strip()[:500]}")
        print(ledger_summary(engine))
        print(wix_summary(engine))
        print(f"\nInventory database: {engine.url.render_as_string(hide_password=True)}")
        port = os.environ.get("DAGSTER_PORT") or "3000"
        print(
            f"Open the Dagster UI on these runs with: make ui   (then http://127.0.0.1:{port}, user operator, "
            "the password make ui prints where to find)"
        )
        return 0 if ok else 1
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
