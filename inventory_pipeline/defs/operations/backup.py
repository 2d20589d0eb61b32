"""Backups, restores and retention of the inventory database (the cron stock-sync service's backup
script, kept 7 days).

A backup is a gzip file with a SHA-256 checksum beside it (``<file>.sha256``, as ``sha256sum`` writes
it): MySQL/MariaDB a ``mysqldump`` (``mariadb-dump``) of the project's tables, SQLite a copy made
with the online-backup API. A restore changes the database only when the whole backup applies: the
file is checked first (its checksum, a complete gzip stream, the dump's own last line), then loaded
beside the live tables and swapped in at once (one ``RENAME TABLE``), or copied in one SQLite backup
step. Anything short of that leaves the database as it was, and no temporary file behind. The
password reaches the MySQL tools through ``MYSQL_PWD`` in their environment, never on a command line.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import zlib
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, delete, func, select, text

from inventory_pipeline.db import preflight
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
DUMP_END = b"-- Dump completed"  # the last line mysqldump writes to a dump it finished
STAGED = "_restore_"  # a restored table's name until it is swapped in
REPLACED = "_replaced_"  # a live table's name once swapped out, until it is dropped


class RestoreError(RuntimeError):
    """The backup cannot be restored; the database was not changed."""


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


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(engine: Engine, folder: Path, now: datetime) -> Path:
    """A dated, compressed backup and its checksum. It is written under a temporary name and given its
    own only when complete, so a backup cut short by a crash is never taken for one."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%d_%H%M%S")
    target = folder / f"{PREFIX}{stamp}.{'db' if engine.dialect.name == 'sqlite' else 'sql'}.gz"
    partial = target.with_name(target.name + ".part")
    try:
        if engine.dialect.name == "sqlite":
            _backup_sqlite(engine, partial)
        else:
            _backup_mysql(engine, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    checksum_path(target).write_text(f"{_sha256(target)}  {target.name}\n")
    return target


def _backup_sqlite(engine: Engine, partial: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "copy.db"
        source, dest = sqlite3.connect(engine.url.database), sqlite3.connect(copy)
        with dest:
            source.backup(dest)  # a consistent copy while writers go on
        source.close()
        dest.close()
        with open(copy, "rb") as raw, gzip.open(partial, "wb") as packed:
            shutil.copyfileobj(raw, packed)


def _backup_mysql(engine: Engine, partial: Path) -> None:
    args, env = _mysql_args(engine)
    tables = [*sorted(metadata.tables), "alembic_version"]
    command = [
        _tool("mariadb-dump", "mysqldump"),
        *args,
        "--single-transaction",  # a consistent view without locking the writers out
        "--quick",
        "--skip-lock-tables",
        "--skip-add-locks",  # no LOCK TABLES in the dump: a restore needs no LOCK TABLES privilege
        "--no-tablespaces",  # MySQL 8 asks PROCESS for tablespace information otherwise
        "--hex-blob",
        "--default-character-set=utf8mb4",
        engine.url.database,
        *tables,
    ]
    with tempfile.TemporaryFile() as errors, gzip.open(partial, "wb") as packed:
        dump = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)
        shutil.copyfileobj(dump.stdout, packed, 1 << 20)
        dump.stdout.close()
        if dump.wait():
            errors.seek(0)
            raise RuntimeError(f"mysqldump failed: {errors.read().decode(errors='replace')[-500:]}")


def _unpacked(path: Path, folder: Path) -> Path:
    """The backup's checksum checked and its gzip stream read to the end, into ``folder``."""
    recorded = checksum_path(path)
    if recorded.is_file():
        expected = recorded.read_text().split()[0] if recorded.read_text().split() else ""
        if _sha256(path) != expected:
            raise RestoreError(
                f"{path.name} does not match the checksum written beside it at backup time ({recorded.name}): "
                "it was changed or damaged since; nothing was restored"
            )
    out = folder / "backup"
    try:
        with gzip.open(path, "rb") as packed, out.open("wb") as raw:
            shutil.copyfileobj(packed, raw, 1 << 20)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise RestoreError(
            f"{path.name} is not a complete gzip file ({type(exc).__name__}: {exc}): it was cut short or "
            "damaged; nothing was restored"
        ) from None
    return out


def restore(engine: Engine, path: Path) -> None:
    """Put a backup back: its tables replace the live ones, all of them or none."""
    with tempfile.TemporaryDirectory(prefix="inventory_restore_") as scratch:
        unpacked = _unpacked(path, Path(scratch))
        if engine.dialect.name == "sqlite":
            _restore_sqlite(engine, unpacked)
        else:
            _restore_mysql(engine, unpacked, Path(scratch))


def _restore_sqlite(engine: Engine, unpacked: Path) -> None:
    source = sqlite3.connect(f"file:{unpacked}?mode=ro", uri=True)
    try:
        try:
            integrity = source.execute("PRAGMA integrity_check").fetchone()[0]
            names = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise RestoreError(f"the backup is no SQLite database ({exc}); nothing was restored") from None
        if integrity != "ok" or not {"inventory_data", "alembic_version"} <= names:
            raise RestoreError(
                "the backup is no complete inventory database "
                f"(integrity: {integrity}; tables: {len(names)}); nothing was restored"
            )
        engine.dispose()
        dest = sqlite3.connect(engine.url.database)
        try:
            with dest:
                source.backup(dest)  # one step: the live file is replaced whole or not at all
        finally:
            dest.close()
    finally:
        source.close()


_NAMED = re.compile(rb"^(DROP TABLE IF EXISTS |CREATE TABLE |INSERT INTO |/\*!40000 ALTER TABLE )`([^`]+)`")
_FOREIGN_KEY = re.compile(rb"^(\s*)CONSTRAINT `[^`]+` FOREIGN KEY (\(.*?\)) REFERENCES `([^`]+)`")
_LOCKS = (b"LOCK TABLES ", b"UNLOCK TABLES")


def stage_dump(dump: Path, staged: Path) -> list[str]:
    """The dump rewritten to load beside the live tables: each table ``t`` as ``_restore_t``, each
    foreign key named afresh (their names are unique in a database) and pointing at the staged
    parent. Returns the tables it holds. Only statement heads are rewritten, never the data."""
    tables: list[str] = []
    token, keys = secrets.token_hex(3), 0
    with dump.open("rb") as source, staged.open("wb") as out:
        for line in source:
            if line.startswith(_LOCKS):
                continue  # a backup made before --skip-add-locks
            head = _NAMED.match(line)
            if head:
                name = head.group(2).decode()
                if head.group(1).startswith(b"CREATE TABLE"):
                    tables.append(name)
                    keys = 0
                line = head.group(1) + f"`{STAGED}{name}`".encode() + line[head.end() :]
            elif tables and (key := _FOREIGN_KEY.match(line)):
                keys += 1
                fk = f"{tables[-1][:40]}_fk{keys}_{token}"
                line = (
                    key.group(1)
                    + f"CONSTRAINT `{fk}` FOREIGN KEY ".encode()
                    + key.group(2)
                    + f" REFERENCES `{STAGED}{key.group(3).decode()}`".encode()
                    + line[key.end() :]
                )
            out.write(line)
    return tables


def _restore_mysql(engine: Engine, unpacked: Path, scratch: Path) -> None:
    with unpacked.open("rb") as dump:
        dump.seek(max(0, unpacked.stat().st_size - 4096))
        ending = dump.read().rstrip().rsplit(b"\n", 1)[-1]
    if not ending.startswith(DUMP_END):
        raise RestoreError(
            "the backup does not end as mysqldump ends a dump it finished ('-- Dump completed'): it was cut "
            "short; nothing was restored"
        )
    preflight.check(engine)
    staged = scratch / "staged.sql"
    tables = stage_dump(unpacked, staged)
    args, env = _mysql_args(engine)
    try:
        with staged.open("rb") as statements:
            loaded = subprocess.run(
                [_tool("mariadb", "mysql"), *args, "--default-character-set=utf8mb4", engine.url.database],
                stdin=statements,
                capture_output=True,
                env=env,
                check=False,
            )
        if loaded.returncode:
            raise RestoreError(
                f"the backup did not load ({loaded.stderr.decode(errors='replace').strip()[-400:]}); "
                "nothing was restored"
            )
        _swap(engine, tables)
    finally:
        _drop(engine, [f"{STAGED}{t}" for t in tables] + [f"{REPLACED}{t}" for t in tables])


def _swap(engine: Engine, tables: list[str]) -> None:
    """Every restored table in place of the live one, in one statement (MySQL renames atomically)."""
    with engine.begin() as conn:
        live = set(conn.execute(text("SHOW TABLES")).scalars())
        missing = [t for t in tables if f"{STAGED}{t}" not in live]
        if missing:
            raise RestoreError(f"the backup did not load tables {missing}; nothing was restored")
        pairs = [f"`{t}` TO `{REPLACED}{t}`" for t in tables if t in live]
        pairs += [f"`{STAGED}{t}` TO `{t}`" for t in tables]
        conn.execute(text("RENAME TABLE " + ", ".join(pairs)))


def _drop(engine: Engine, names: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for name in names:
            conn.execute(text(f"DROP TABLE IF EXISTS `{name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))


def prune_backups(folder: Path, keep_days: int, now: datetime) -> list[Path]:
    """Delete backups (and their checksums) older than ``keep_days`` (the cron stock-sync service:
    ``find … -mtime +7 -delete``)."""
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
