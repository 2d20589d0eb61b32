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


def test_a_latin1_database_gets_a_schema_that_stores_and_tells_apart_every_sku(mariadb):
    """A database created with the server's latin1 default passed `upgrade` and then failed the first
    sync on a Cyrillic warehouse name. The schema carries its own character set and exact collation."""
    from datetime import datetime

    from inventory_pipeline.db.engine import make_engine
    from inventory_pipeline.defs.stock import ledger
    from inventory_pipeline_tests.support.rows import stock

    url = mariadb.create_database("inv_latin1", charset="latin1")
    assert _run("upgrade", url=url).returncode == 0
    engine = make_engine(url)
    rows = [stock("Ёлка", 1, name="Склад Москва"), stock("Елка", 2), stock("abc", 3), stock("ABC", 4)]
    result = ledger.apply(engine, "wb", "main", datetime(2026, 12, 1), [rows], "run-1")
    assert result.inserted == 4
    with engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT warehouse_name FROM inventory_data")}
    assert names == {"Склад Москва", "Склад"}
