"""Backups, restores and retention on both databases."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from dagster import AssetKey
from sqlalchemy import delete, func, select, update

from inventory_pipeline.db.engine import make_engine
from inventory_pipeline.db.preflight import PRIVILEGES
from inventory_pipeline.db.tables import (
    accounts,
    inventory_data,
    inventory_history,
    stock_snapshot_pages,
    stock_snapshot_rows,
    stock_snapshots,
    sync_logs,
)
from inventory_pipeline.defs.operations.backup import apply_retention, backup, checksum_path, prune_backups, restore
from inventory_pipeline_tests.support.ledger_views import assert_ledger_matches, ledger_state
from inventory_pipeline_tests.support.pipeline import make_pipeline
from inventory_pipeline_tests.support.servers import MariaDBServer


def test_backup_then_restore_reproduces_the_tables(monkeypatch, sandbox, database_url, tmp_path):
    p = make_pipeline(monkeypatch, sandbox, database_url)
    assert p.run().success
    state = ledger_state(p.engine)
    with p.engine.connect() as conn:
        logs = conn.execute(select(func.count()).select_from(sync_logs)).scalar_one()
    path = backup(p.engine, tmp_path / "backups", datetime.now(UTC))
    assert path.name.startswith("inventory_backup_") and path.stat().st_size > 1000
    with p.engine.begin() as conn:  # damage after the backup
        conn.execute(update(inventory_data).values(current_stock=-1))
        conn.execute(delete(sync_logs))
    restore(p.engine, path)
    assert ledger_state(p.engine) == state
    with p.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sync_logs)).scalar_one() == logs


def test_the_backup_job_runs_and_keeps_seven_days(monkeypatch, sandbox, sqlite_url, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    stale = folder / "inventory_backup_20260101_000000.db.gz"
    stale.write_bytes(b"old")
    eight_days = time.time() - 8 * 86_400
    os.utime(stale, (eight_days, eight_days))
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, BACKUP_DIR=str(folder))
    assert p.run().success
    result = p.run("backup_and_retention")
    assert result.success
    assert not stale.exists() and len(list(folder.glob("inventory_backup_*.db.gz"))) == 1
    assert prune_backups(folder, 7, datetime.now(UTC)) == []


def test_retention_keeps_the_snapshot_the_ledger_was_built_from(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run().success
    p.advance(1)
    assert p.run().success
    old = datetime(2020, 1, 1)
    with p.engine.begin() as conn:
        conn.execute(update(stock_snapshots).values(fetched_at=old))
        conn.execute(update(inventory_history).values(changed_at=old))
    removed = apply_retention(p.engine, datetime.now(UTC).replace(tzinfo=None), history_days=180, snapshot_days=14)
    assert removed["stock_snapshots"] == 2 and removed["inventory_history"] > 0
    with p.engine.connect() as conn:
        kept = conn.execute(select(stock_snapshots.c.source, stock_snapshots.c.status)).all()
    assert sorted(kept) == [("ozon", "accepted"), ("wb", "accepted")]
    assert p.run().success  # the ledger goes on from what was kept


def test_retention_keeps_the_snapshot_the_slice_was_made_equal_to(pipeline):
    """A newer snapshot accepted but not yet applied was "the newest accepted"; retention then deleted
    the one the slice was last made equal to, the next sync compared with nothing, and SKUs the
    marketplace had dropped kept their stock. Both are kept, and a missing one means comparing with
    the ledger."""
    p = pipeline
    assert p.run("stock_sync_ozon").success
    with p.engine.connect() as conn:
        applied = conn.execute(select(accounts.c.snapshot_id).where(accounts.c.marketplace == "ozon")).scalar_one()
    p.advance(1)
    snapshot_only = p.defs.resolve_job_def("stock_sync_ozon")
    assert snapshot_only.execute_in_process(
        partition_key="main", instance=p.instance, asset_selection=[AssetKey("ozon_stock_snapshot")]
    ).success
    old = datetime(2020, 1, 1)
    with p.engine.begin() as conn:
        conn.execute(update(stock_snapshots).values(fetched_at=old))
    apply_retention(p.engine, datetime.now(UTC).replace(tzinfo=None), history_days=180, snapshot_days=14)
    with p.engine.connect() as conn:
        kept = set(conn.execute(select(stock_snapshots.c.id).where(stock_snapshots.c.source == "ozon")).scalars())
    assert applied in kept and len(kept) == 2
    requests.post(f"{p.sandbox.url}/_sandbox/collapse", json={"channel": "ozon", "keep_share": 0.9}, timeout=5)
    assert p.run("stock_sync_ozon").success
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")  # the delisted SKUs went to zero


def test_a_missing_previous_snapshot_means_comparing_with_the_ledger(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run().success
    with p.engine.begin() as conn:  # whatever took it: an older retention, a restore, a hand
        gone = conn.execute(select(accounts.c.snapshot_id).where(accounts.c.marketplace == "ozon")).scalar_one()
        for table in (stock_snapshot_rows, stock_snapshot_pages):
            conn.execute(delete(table).where(table.c.snapshot_id == gone))
        conn.execute(delete(stock_snapshots).where(stock_snapshots.c.id == gone))
    requests.post(f"{p.sandbox.url}/_sandbox/collapse", json={"channel": "ozon", "keep_share": 0.9}, timeout=5)
    result = p.run("stock_sync_ozon")
    assert result.success
    metadata = result.asset_materializations_for_node("ozon_ledger_slice")[0].metadata
    assert metadata["compared_with"].value == "ledger" and "is gone" in metadata["not_compared"].value
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")


# -- operations as the README's database user, and backups that cannot be trusted -------------------

CLI = str(Path(sys.executable).with_name("inventory-db"))


def _cli(*args: str, url: str, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "INVENTORY_DB_URL": url, "TMPDIR": str(tmp)}
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def strict_mariadb(tmp_path_factory):
    """A MariaDB server that enforces privileges, as a production one does."""
    server = MariaDBServer(tmp_path_factory.mktemp("strict_mariadb"), buffer_pool="128M", grants=True).start()
    yield server
    server.stop()


def _tables(url: str) -> set[str]:
    with make_engine(url).connect() as conn:
        return set(conn.exec_driver_sql("SHOW TABLES").scalars())


def test_upgrade_backup_and_restore_as_the_readme_user(strict_mariadb, monkeypatch, sandbox, tmp_path):
    """With exactly the privileges the README lists. A restore used to stop on LOCK TABLES (error
    1044) after emptying a table, and an upgrade failed on CREATE VIEW half-way."""
    strict_mariadb.create_database("inv_readme_user")
    url = strict_mariadb.create_user("inventory", "s3cret-pw", "inv_readme_user", PRIVILEGES)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    upgraded = _cli("upgrade", url=url, tmp=scratch)
    assert upgraded.returncode == 0, upgraded.stderr
    p = make_pipeline(monkeypatch, sandbox, url)
    assert p.run().success
    state = ledger_state(p.engine)
    made = _cli("backup", str(tmp_path / "backups"), url=url, tmp=scratch)
    assert made.returncode == 0, made.stderr
    [path] = (tmp_path / "backups").glob("inventory_backup_*.sql.gz")
    assert checksum_path(path).read_text().split()[0] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert b"LOCK TABLES" not in gzip.decompress(path.read_bytes())
    with p.engine.begin() as conn:  # damage after the backup
        conn.execute(update(inventory_data).values(current_stock=-1))
        conn.execute(delete(sync_logs))
    restored = _cli("restore", str(path), url=url, tmp=scratch)
    assert restored.returncode == 0, restored.stderr
    p.engine.dispose()
    assert ledger_state(p.engine) == state
    assert not any(t.startswith(("_restore_", "_replaced_")) for t in _tables(url))
    assert list(scratch.iterdir()) == []  # nothing left behind
    p.advance(3)
    assert p.run().success  # the restored ledger goes on, compared with its snapshots


def test_an_upgrade_without_a_privilege_changes_nothing_and_names_it(strict_mariadb, tmp_path):
    strict_mariadb.create_database("inv_no_view")
    lacking = tuple(p for p in PRIVILEGES if p != "CREATE VIEW")
    url = strict_mariadb.create_user("no_view", "pw", "inv_no_view", lacking)
    refused = _cli("upgrade", url=url, tmp=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "cannot CREATE VIEW" in refused.stderr and "GRANT" in refused.stderr
    assert _tables(url) == set()  # not a half-migrated schema: nothing at all


@pytest.fixture
def backed_up(monkeypatch, sandbox, database_url, tmp_path):
    """A synced ledger, its backup, and its state right after."""
    p = make_pipeline(monkeypatch, sandbox, database_url)
    assert p.run().success
    path = backup(p.engine, tmp_path / "backups", datetime.now(UTC))
    p.advance(2)
    assert p.run().success  # the database moves on after the backup
    p.state, p.backup = ledger_state(p.engine), path
    p.scratch = tmp_path / "tmp"
    p.scratch.mkdir()
    return p


def _regzip(raw: bytes, path: Path) -> Path:
    path.write_bytes(gzip.compress(raw))
    checksum_path(path).write_text(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n")
    return path


def test_a_damaged_backup_is_refused_and_the_database_stays_as_it_was(backed_up, database_url, tmp_path):
    p = backed_up
    raw = gzip.decompress(p.backup.read_bytes())
    damaged = {
        "cut short inside the gzip": (_regzip(raw[: len(raw) // 2], tmp_path / "cut.gz"), "cut short"),
        "gzip cut at its end": (tmp_path / "end.gz", "not a complete gzip file"),
        "changed since": (tmp_path / "changed.gz", "does not match the checksum"),
    }
    (tmp_path / "end.gz").write_bytes(p.backup.read_bytes()[:-40])
    (tmp_path / "changed.gz").write_bytes(p.backup.read_bytes())
    checksum_path(tmp_path / "changed.gz").write_text("0" * 64 + "  changed.gz\n")
    if p.engine.dialect.name == "sqlite":  # a SQLite backup has no dump trailer: the file itself is checked
        damaged["cut short inside the gzip"] = (damaged["cut short inside the gzip"][0], "the backup is no")
    for case, (path, reason) in damaged.items():
        refused = _cli("restore", str(path), url=database_url, tmp=p.scratch)
        assert refused.returncode == 1, case
        assert reason in refused.stderr and "Traceback" not in refused.stderr, (case, refused.stderr)
        p.engine.dispose()
        assert ledger_state(p.engine) == p.state, case
        assert list(p.scratch.iterdir()) == [], case


def test_a_backup_that_fails_while_loading_changes_no_table(backed_up, tmp_path):
    """A dump that checks out but whose load stops half-way (here a statement the server refuses after
    a few tables): the live tables are untouched, no staged table is left."""
    p = backed_up
    if p.engine.dialect.name == "sqlite":
        pytest.skip("SQLite restores in one backup step: there is no half-way")
    raw = gzip.decompress(p.backup.read_bytes())
    at = raw.index(b"CREATE TABLE `stock_snapshots`")
    broken = _regzip(raw[:at] + b"THIS IS NOT SQL;\n" + raw[at:], tmp_path / "broken.sql.gz")
    url = p.engine.url.render_as_string(hide_password=False)
    refused = _cli("restore", str(broken), url=url, tmp=p.scratch)
    assert refused.returncode == 1 and "did not load" in refused.stderr
    p.engine.dispose()
    assert ledger_state(p.engine) == p.state
    assert not any(t.startswith(("_restore_", "_replaced_")) for t in _tables(url))
    restored = _cli("restore", str(p.backup), url=url, tmp=p.scratch)  # the good one still restores
    assert restored.returncode == 0, restored.stderr
