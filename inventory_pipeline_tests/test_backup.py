"""Backups, restores and retention on both databases."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import requests
from dagster import AssetKey
from sqlalchemy import delete, func, select, update

from inventory_pipeline.db.tables import (
    accounts,
    inventory_data,
    inventory_history,
    stock_snapshot_pages,
    stock_snapshot_rows,
    stock_snapshots,
    sync_logs,
)
from inventory_pipeline.defs.operations.backup import apply_retention, backup, prune_backups, restore
from inventory_pipeline_tests.support.ledger_views import assert_ledger_matches, ledger_state
from inventory_pipeline_tests.support.pipeline import make_pipeline


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
    metadata = result.asset_materializations_for_node("inventory_data")[0].metadata
    assert metadata["ozon_compared_with"].value == "ledger" and "is gone" in metadata["ozon_not_compared"].value
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")
