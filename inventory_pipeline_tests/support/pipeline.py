"""The project's definitions pointed at the sandbox and a test database, as production points them:
through environment variables."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from dagster import DagsterInstance, Definitions
from sqlalchemy import Engine

from inventory_pipeline.db.engine import make_engine
from inventory_pipeline.definitions import build_definitions
from inventory_pipeline.settings import load_settings
from marketplace_sandbox import SandboxServer
from marketplace_sandbox.env import sandbox_env

UNPARTITIONED = {"stock_sync_dry_run", "stock_fast_path"}


@dataclass
class Pipeline:
    """The project's definitions pointed at the sandbox and a test database."""

    defs: Definitions
    engine: Engine
    sandbox: SandboxServer
    instance: DagsterInstance

    def run(self, job: str = "stock_sync_all_sources", account: str = "main", config: dict | None = None):
        return self.defs.resolve_job_def(job).execute_in_process(
            partition_key=account if job.startswith("stock_") and job not in UNPARTITIONED else None,
            instance=self.instance,
            raise_on_error=False,
            run_config=config,
        )

    def truth(self, channel: str, account: str = "main") -> list[dict]:
        return requests.get(
            f"{self.sandbox.url}/_sandbox/truth/{channel}", params={"account": account}, timeout=30
        ).json()

    def advance(self, hours: float) -> None:
        requests.post(f"{self.sandbox.url}/_sandbox/advance", json={"hours": hours}, timeout=30).raise_for_status()

    def configure(self, **settings) -> dict:
        """The sandbox's ``/_sandbox/config`` (profile, unreadable rows, hidden cards...)."""
        answer = requests.put(f"{self.sandbox.url}/_sandbox/config", json=settings, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def calls(self) -> dict[str, int]:
        return requests.get(f"{self.sandbox.url}/_sandbox/calls", timeout=10).json()

    def faults(self, spec: str, slow_seconds: float | None = None) -> None:
        body = {"spec": spec} if slow_seconds is None else {"spec": spec, "slow_seconds": slow_seconds}
        requests.put(f"{self.sandbox.url}/_sandbox/faults", json=body, timeout=10).raise_for_status()


def make_pipeline(monkeypatch, sandbox: SandboxServer, url: str, **env: str) -> Pipeline:
    settings = {**sandbox_env(sandbox.url), "INVENTORY_DB_URL": url, "API_RETRY_DELAY": "0.05", "API_TIMEOUT": "5"}
    settings.pop("WIX_SITE_ID")  # a Wix site only for the tests that ask for one
    for name, value in {**settings, **env}.items():
        monkeypatch.setenv(name, value)
    if "WIX_SITE_ID" not in env:
        monkeypatch.delenv("WIX_SITE_ID", raising=False)
    defs = build_definitions(load_settings())
    return Pipeline(defs, make_engine(url), sandbox, DagsterInstance.ephemeral())
