"""Backups, restores and retention of the inventory database (the cron stock-sync service's backup script, kept 7 days).

MySQL/MariaDB: ``mysqldump`` (``mariadb-dump``) of the project's tables, gzip. SQLite: the SQLite
online-backup API, gzip. The password reaches the dump tools through ``MYSQL_PWD`` in their
environment, never on a command line.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, delete, func, select

from inventory_pipeline.db.tables import (
    accounts,
    inventory_history,
    metadata,
    notifications,
    stock_anomalies,
    stock_snapshot_pages,
    stock_snapshot_rows,
    stock_snapshots,
    sync_logs,
)

PREFIX = "inventory_backup_"


def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(f"none of {', '.join(names)} is installed (Debian: mariadb-client)")


def _mysql_args(engine: Engine) -> tuple[list[str], dict[str, str]]:
    url = engine.url
    args = [f"--host={url.host or 'localhost'}", f"--port={url.port or 3306}", f"--user={url.username or 'root'}"]
    return args, {**os.environ, "MYSQL_PWD": url.password or ""}


def backup(engine: Engine, folder: Path, now: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%d_%H%M%S")
    if engine.dialect.name == "sqlite":
        target = folder / f"{PREFIX}{stamp}.db.gz"
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "copy.db"
            source, dest = sqlite3.connect(engine.url.database), sqlite3.connect(copy)
            with dest:
                source.backup(dest)  # a consistent copy while writers go on
            source.close()
            dest.close()
            with open(copy, "rb") as raw, gzip.open(target, "wb") as packed:
                shutil.copyfileobj(raw, packed)
        return target
    target = folder / f"{PREFIX}{stamp}.sql.gz"
    args, env = _mysql_args(engine)
    tables = [*sorted(metadata.tables), "alembic_version"]
    dump = subprocess.run(
        [
            _tool("mariadb-dump", "mysqldump"),
            *args,
            "--single-transaction",
            "--quick",
            "--skip-lock-tables",
            engine.url.database,
            *tables,
        ],
        capture_output=True,
        env=env,
        check=False,
    )
    if dump.returncode:
        raise RuntimeError(f"mysqldump failed: {dump.stderr.decode(errors='replace')[-500:]}")
    with gzip.open(target, "wb") as packed:
        packed.write(dump.stdout)
    return target


def restore(engine: Engine, path: Path) -> None:
    """Put a backup back: the tables it holds are replaced by their contents at backup time."""
    if engine.dialect.name == "sqlite":
        engine.dispose()
        with gzip.open(path, "rb") as packed, tempfile.NamedTemporaryFile(delete=False) as raw:
            shutil.copyfileobj(packed, raw)
        source, dest = sqlite3.connect(raw.name), sqlite3.connect(engine.url.database)
        with dest:
            source.backup(dest)
        source.close()
        dest.close()
        os.unlink(raw.name)
        return
    args, env = _mysql_args(engine)
    with gzip.open(path, "rb") as packed:
        loaded = subprocess.run(
            [_tool("mariadb", "mysql"), *args, engine.url.database],
            input=packed.read(),
            capture_output=True,
            env=env,
            check=False,
        )
    if loaded.returncode:
        raise RuntimeError(f"restore failed: {loaded.stderr.decode(errors='replace')[-500:]}")


def prune_backups(folder: Path, keep_days: int, now: datetime) -> list[Path]:
    """Delete backups older than ``keep_days`` (the cron stock-sync service: ``find … -mtime +7 -delete``)."""
    limit = now.timestamp() - keep_days * 86_400
    removed = [p for p in folder.glob(f"{PREFIX}*") if p.stat().st_mtime < limit]
    for path in removed:
        path.unlink()
    return removed


def apply_retention(engine: Engine, now: datetime, history_days: int, snapshot_days: int) -> dict[str, int]:
    """Keep the history tables from growing without bound. Two snapshots of each source and account
    are always kept, whatever their age: the one each ledger slice was last made equal to (the next
    sync compares with it) and the newest accepted one (the next ledger step applies it)."""
    old_history, old_snapshots = now - timedelta(days=history_days), now - timedelta(days=snapshot_days)
    s = stock_snapshots
    with engine.begin() as conn:
        newest = select(func.max(s.c.id)).where(s.c.status == "accepted").group_by(s.c.source, s.c.account)
        applied = select(accounts.c.snapshot_id).where(accounts.c.snapshot_id.is_not(None))
        keep = sorted({r[0] for r in conn.execute(newest)} | {r[0] for r in conn.execute(applied)})
        doomed = [
            r[0]
            for r in conn.execute(
                select(s.c.id).where(s.c.fetched_at < old_snapshots, s.c.id.not_in(keep) if keep else True)
            )
        ]
        removed = {"stock_snapshots": len(doomed)}
        for start in range(0, len(doomed), 500):
            batch = doomed[start : start + 500]
            conn.execute(delete(stock_snapshot_pages).where(stock_snapshot_pages.c.snapshot_id.in_(batch)))
            conn.execute(delete(stock_snapshot_rows).where(stock_snapshot_rows.c.snapshot_id.in_(batch)))
            conn.execute(delete(s).where(s.c.id.in_(batch)))
        for table, column in (
            (inventory_history, inventory_history.c.changed_at),
            (sync_logs, sync_logs.c.started_at),
            (notifications, notifications.c.created_at),
            (stock_anomalies, stock_anomalies.c.detected_at),
        ):
            removed[table.name] = conn.execute(delete(table).where(and_(column < old_history))).rowcount
    return removed
