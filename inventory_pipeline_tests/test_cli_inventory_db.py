"""``inventory-db`` as an operator types it: help, mistakes and a missing file are said plainly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from inventory_pipeline.settings import PROJECT_ROOT

CLI = str(Path(sys.executable).with_name("inventory-db"))


def _run(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "INVENTORY_DB_URL": url}
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120, env=env)


def test_help_usage_and_mistakes(tmp_path):
    url = f"sqlite:///{tmp_path / 'inv.db'}"
    shown = _run("--help", url=url)
    assert shown.returncode == 0 and "upgrade" in shown.stdout and "restore" in shown.stdout
    bare = _run(url=url)
    assert bare.returncode == 2 and "COMMAND" in bare.stderr
    assert not (tmp_path / "inv.db").exists()  # no command, nothing migrated
    missing = _run("restore", str(tmp_path / "nope.sql.gz"), url=url)
    assert missing.returncode == 2 and "no backup file at" in missing.stderr and "Traceback" not in missing.stderr
    typo = _run("upgrad", url=url)
    assert typo.returncode == 2 and "invalid choice" in typo.stderr


def test_current_says_whether_the_schema_is_behind(tmp_path):
    url = f"sqlite:///{tmp_path / 'inv.db'}"
    assert _run("current", url=url).returncode == 1
    assert _run("upgrade", url=url).returncode == 0
    now = _run("current", url=url)
    newest = sorted(p.name[:4] for p in (PROJECT_ROOT / "inventory_pipeline/db/migrations/versions").glob("0*.py"))[-1]
    assert now.returncode == 0 and f"revision {newest}" in now.stdout
