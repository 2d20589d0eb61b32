"""What the README says runs, runs: its command blocks, as printed, in a fresh clone of this
repository, against the sandbox. The first screen's `make test` is what CI itself runs; its
`make demo` is run here twice (it must be re-runnable)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests
from dagster import DagsterInstance

from inventory_pipeline.settings import PROJECT_ROOT
from inventory_pipeline_tests.support.servers import free_port, wait_for_http
from marketplace_sandbox import SandboxServer

BLOCKS = re.findall(r"```bash\n(.*?)```", (PROJECT_ROOT / "README.md").read_text(), re.S)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A clone of the committed tree, using this checkout's virtualenv (installing again is CI's job)."""
    target = tmp_path_factory.mktemp("readme") / "inventory_pipeline"
    subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(target)], check=True)
    (target / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    (PROJECT_ROOT / ".venv" / ".installed").touch()  # newer than the clone's pyproject.toml: no reinstall
    return target


@pytest.fixture
def sandbox():
    """As `make sandbox` starts it: a Wix store the pipeline already keeps in step."""
    with SandboxServer(skus=120, seed=7, profile="fast", wix_in_sync=True) as server:
        yield server


def _run(script: str, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{script}\n--- exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _plain_env(**extra: str) -> dict[str, str]:
    """A user's shell: no DAGSTER_HOME, no pipeline settings."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "USER", "TMPDIR"}}
    return {**keep, **extra}


def test_the_first_screen_is_make_demo_and_make_test():
    assert BLOCKS[0].split("#")[0].split() == ["make", "demo"]
    assert [line.split("#")[0].strip() for line in BLOCKS[0].strip().splitlines()] == ["make demo", "make test"]


def test_make_demo_runs_twice_in_a_fresh_clone(clone):
    env = _plain_env()
    for _ in range(2):
        out = _run("make demo", clone, env).stdout
        assert "success" in out and "FAILED" not in out


def test_the_cli_block_runs_as_printed(clone, sandbox, tmp_path):
    block = next(b for b in BLOCKS if "dagster job backfill" in b)
    env = _plain_env(SANDBOX_PORT=sandbox.url.rsplit(":", 1)[1], INVENTORY_DB_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    home = clone / ".dagster_home"
    earlier = set()
    if (home / "dagster.yaml").exists():  # the demo's runs, when it ran first in this clone
        with DagsterInstance.from_config(str(home)) as instance:
            earlier = {r.run_id for r in instance.get_runs()}
    _run(block, clone, env)
    with DagsterInstance.from_config(str(home)) as instance:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            runs = [r for r in instance.get_runs() if r.run_id not in earlier]
            if len(runs) >= 5 and all(r.is_finished for r in runs):
                break
            time.sleep(1)
        statuses = sorted((r.job_name, r.tags.get("dagster/partition", ""), r.status.value) for r in runs)
    assert statuses == [
        ("sales_daily", "main|2026-11-20", "SUCCESS"),
        ("sales_daily", "main|2026-11-21", "SUCCESS"),
        ("stock_sync_all_sources", "main", "SUCCESS"),
        ("stock_sync_all_sources", "second", "SUCCESS"),
        ("stock_sync_ozon", "main", "SUCCESS"),
    ]


def test_the_sandbox_block_runs_as_printed(clone, sandbox):
    block = next(b for b in BLOCKS if "_sandbox/accounts" in b)
    _run(block, clone, _plain_env(SANDBOX_PORT=sandbox.url.rsplit(":", 1)[1]))


LAUNCH = (
    'mutation { launchRun(executionParams: {selector: {repositoryLocationName: "inventory_pipeline", '
    'repositoryName: "__repository__", jobName: "wix_stock_push_job"}}) { __typename } }'
)


@pytest.mark.parametrize("stop", ["ctrl-c", "term-to-make"])
def test_make_ui_serves_through_the_refusing_front_and_stops_every_child(tmp_path, stop):
    """`make ui` answers on DAGSTER_PORT through the production front's rules: a password, no mutation
    by GET (an <img> on a web page the operator visits), no write from a foreign Origin. Ctrl-C (an
    interrupt to the whole foreground group) or a TERM to make alone stops everything it started."""
    sandbox_port, dagster_port = free_port(), free_port()
    home = tmp_path / "home"
    env = {
        **os.environ,
        "SANDBOX_PORT": str(sandbox_port),
        "DAGSTER_PORT": str(dagster_port),
        "DAGSTER_HOME": str(home),
        "INVENTORY_DB_URL": f"sqlite:///{tmp_path / 'ui.db'}",
    }
    env.pop("UI_PASSWORD", None)
    output = tmp_path / "make-ui.log"
    ui = subprocess.Popen(
        ["make", "--no-print-directory", "ui"],
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
        stdout=output.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    front = f"http://127.0.0.1:{dagster_port}"
    try:
        wait_for_http(f"http://127.0.0.1:{sandbox_port}/_sandbox/health")
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not (home / "front" / "ui-password").exists():
            time.sleep(0.5)
        auth = ("operator", (home / "front" / "ui-password").read_text().strip())
        while time.monotonic() < deadline and ui.poll() is None:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{front}/server_info", auth=auth, timeout=5).status_code == 200:
                    break
            time.sleep(1)
        else:
            pytest.fail(f"make ui never answered (exit {ui.poll()}):\n{output.read_text()[-4000:]}")
        graphql = f"{front}/graphql"
        assert requests.get(f"{front}/server_info", timeout=10).status_code == 401
        assert requests.get(graphql, params={"query": LAUNCH}, auth=auth, timeout=10).status_code == 405
        foreign = {"Origin": "https://evil.example"}
        assert requests.post(graphql, json={"query": LAUNCH}, headers=foreign, auth=auth, timeout=10).status_code == 403
        own = requests.post(graphql, json={"query": "{ version }"}, headers={"Origin": front}, auth=auth, timeout=30)
        assert own.status_code == 200 and own.json()["data"]["version"]
        # Behind the front, the webserver listens on a socket file only this user opens: no port a web
        # page (or another local user) could reach without the password.
        socket_file = home / "front" / "webserver.sock"
        assert stat.S_ISSOCK(socket_file.stat().st_mode) and stat.S_IMODE(socket_file.parent.stat().st_mode) == 0o700
        webserver = [line for line in _leftovers(ui.pid, dagster_port) if "--webserver-socket" in line]
        assert webserver and all(" -p " not in line and "--port" not in line for line in webserver)
        if stop == "ctrl-c":
            os.killpg(ui.pid, signal.SIGINT)
        else:
            os.kill(ui.pid, signal.SIGTERM)
        ui.wait(timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            _leftovers(ui.pid, dagster_port) or _answering(sandbox_port, dagster_port)
        ):
            time.sleep(1)
        assert _leftovers(ui.pid, dagster_port) == []
        assert _answering(sandbox_port, dagster_port) == []
        printed = output.read_text()
        assert f"Dagster UI: {front}" in printed and auth[1] not in printed  # where the password is, not it
    finally:
        if _leftovers(ui.pid, dagster_port):
            os.killpg(ui.pid, signal.SIGKILL)


def _leftovers(session: int, port: int) -> list[str]:
    """Processes of `make ui`'s session, and any naming its port."""
    found = subprocess.run(["ps", "-eo", "sid=,pid=,args="], capture_output=True, text=True).stdout.splitlines()
    return [line for line in found if line.split(None, 1)[0] == str(session) or f"--port {port}" in line]


def _answering(*ports: int) -> list[int]:
    answering = []
    for port in ports:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                answering.append(port)
    return answering
