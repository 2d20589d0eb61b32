"""The one place where MySQL/MariaDB and SQLite statements differ."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Dialect, Engine, Select, String, Table, text, true
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator, TypeEngine

CHARSET = "utf8mb4"


def exact_collation(dialect: Dialect) -> str:
    """The MySQL/MariaDB collation under which two texts are equal only when they are the same
    characters: binary and NO PAD, so that ``ABC``, ``abc``, ``ABC `` and ``Ёлка``/``Елка`` are five
    keys, as they are on SQLite. (``utf8mb4_bin`` still ignores trailing spaces.)"""
    version = dialect.server_version_info or ()
    if getattr(dialect, "is_mariadb", False):
        if version and version < (10, 2):
            raise RuntimeError(f"MariaDB {version} has no NO PAD binary collation; use MariaDB 10.2 or newer")
        return "utf8mb4_nopad_bin"
    if version and version < (8, 0, 17):
        raise RuntimeError(f"MySQL {version} has no NO PAD binary collation; use MySQL 8.0.17 or newer")
    return "utf8mb4_0900_bin"


class ExactText(TypeDecorator):
    """A text column compared exactly on every database: on MySQL/MariaDB it carries the exact
    collation (tables the code creates itself, such as the staging tables, get it too); SQLite
    compares texts exactly already."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(
                mysql.VARCHAR(self.impl.length, charset=CHARSET, collation=exact_collation(dialect))
            )
        return dialect.type_descriptor(String(self.impl.length))


def upsert_from_select(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    select: Select,
    key: Sequence[str],
    update: Sequence[str],
) -> Insert:
    """``INSERT … SELECT`` that updates ``update`` columns of rows whose ``key`` already exists."""
    name = connection.dialect.name
    if name in {"mysql", "mariadb"}:
        stmt = mysql.insert(table).from_select(list(columns), select)
        return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in update})
    if name == "sqlite":
        # SQLite cannot tell "SELECT … FROM t ON CONFLICT" from a join's ON without a WHERE.
        stmt = sqlite.insert(table).from_select(list(columns), select.where(true()))
        return stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in update})
    raise NotImplementedError(f"the inventory database supports MySQL/MariaDB and SQLite, not {name}")


def bulk_load_allowed(connection: Connection) -> bool:
    """``LOAD DATA LOCAL INFILE`` works: a MySQL/MariaDB server with ``local_infile`` on, and a
    client connected with it (``make_engine`` asks for it)."""
    if connection.dialect.name not in {"mysql", "mariadb"}:
        return False
    cached = connection.info.get("bulk_load_allowed")
    if cached is None:
        server_on = connection.execute(text("SELECT @@local_infile")).scalar() in (1, "1", "ON")
        client_flags = getattr(connection.connection.dbapi_connection, "client_flag", 0)
        cached = bool(server_on and client_flags & 128)  # CLIENT.LOCAL_FILES
        connection.info["bulk_load_allowed"] = cached
    return cached


def drop_temporary(connection: Connection, table: Table) -> None:
    """Drop a temporary table without ending the transaction: MySQL commits on a plain
    ``DROP TABLE`` and does not on ``DROP TEMPORARY TABLE``."""
    if connection.dialect.name in {"mysql", "mariadb"}:
        connection.execute(text(f"DROP TEMPORARY TABLE IF EXISTS {table.name}"))
    else:
        table.drop(connection, checkfirst=True)


DEADLOCK = 1213  # MySQL/MariaDB: the transaction was chosen as a deadlock's victim and rolled back


def rows_only_locks(engine: Engine) -> Engine:
    """An engine whose transactions lock the rows they touch, not the gaps between index entries
    (READ COMMITTED on MySQL). Under REPEATABLE READ replacing one day (delete it, insert it again)
    locked the gap up to the next day's rows, and two neighbouring days deadlocked."""
    if engine.dialect.name in {"mysql", "mariadb"}:
        return engine.execution_options(isolation_level="READ COMMITTED")
    return engine


def is_deadlock(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and bool(getattr(error.orig, "args", ())) and error.orig.args[0] == DEADLOCK


class SliceBusyError(RuntimeError):
    """Another run holds the lock of the ledger slice this run wants to write."""


def _write_lock_up_front(connection: Connection) -> None:
    """SQLite: take the database's write lock first (waiting on the busy timeout): a transaction that
    read before it writes cannot wait for another writer and fails with "database is locked"."""
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _get_lock(connection: Connection, name: str, timeout_seconds: int) -> None:
    got = connection.execute(text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": timeout_seconds})
    if got.scalar() != 1:
        raise SliceBusyError(
            f"{name} is being written by another run; waited {timeout_seconds} s. "
            "Nothing was written: run again once that run has finished."
        )


def _release_lock(connection: Connection, name: str) -> None:
    connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


def _take_all(connection: Connection, names: Sequence[str], timeout_seconds: int) -> None:
    """MySQL: every one of ``names``, or none while waiting: a holder of some never waits for the rest
    while their writers queue behind it."""
    if len(names) == 1:
        _get_lock(connection, names[0], timeout_seconds)
        return
    deadline = time.monotonic() + timeout_seconds
    while True:
        taken = []
        for name in names:
            if connection.execute(text("SELECT GET_LOCK(:name, 0)"), {"name": name}).scalar() != 1:
                break
            taken.append(name)
        else:
            return
        for name in taken:
            _release_lock(connection, name)
        if time.monotonic() > deadline:
            raise SliceBusyError(f"{', '.join(names)} stayed busy for {timeout_seconds} s; nothing was read or written")
        time.sleep(0.1)


@contextmanager
def locked_transaction(engine: Engine, names: Sequence[str], timeout_seconds: int) -> Iterator[Connection]:
    """A transaction that holds the named locks from before its first read until after its commit.

    One name: a writer of a ledger slice or of a seller account's sales, one at a time (released
    before the commit, the next writer would compare with the ledger as it was before this one; on
    MySQL two runs of one partition queue instead of deadlocking on the same rows). Several: a reader
    that moves a cursor to the newest id those writers wrote (an evaluation) while none of them is
    between its first write and its commit, so that it steps past no row of a transaction still open.
    SQLite: the database's write lock, taken up front (its writers commit one at a time, in the order
    of their ids)."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            _write_lock_up_front(connection)
            yield connection
        return
    with engine.connect() as connection:
        _take_all(connection, names, timeout_seconds)
        connection.commit()  # the locks are the connection's; the transaction begins after them
        try:
            with connection.begin():
                yield connection
        finally:
            for name in names:
                _release_lock(connection, name)
            connection.commit()


@contextmanager
def named_lock(engine: Engine, name: str, timeout_seconds: int) -> Iterator[None]:
    """One holder of ``name`` at a time across processes, held outside any transaction (so the holder
    may write in its own transactions meanwhile). MySQL: a named lock on a connection of its own.
    SQLite: a lock file beside the database (the database's write lock would block the holder itself)."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        folder = (
            os.path.dirname(os.path.abspath(database)) if database and database != ":memory:" else tempfile.gettempdir()
        )
        digest = hashlib.sha1(f"{database}:{name}".encode()).hexdigest()[:12]
        with open(os.path.join(folder, f".lock-{digest}"), "a+") as handle:
            deadline = time.monotonic() + timeout_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise SliceBusyError(f"{name} is held by another run; waited {timeout_seconds} s") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with engine.connect() as connection:
        got = connection.execute(text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": timeout_seconds})
        if got.scalar() != 1:
            raise SliceBusyError(f"{name} is held by another run; waited {timeout_seconds} s")
        try:
            yield
        finally:
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


def select_in(connection: Connection, query: Select, column, values: Iterable | None, batch: int = 500) -> list:
    """The rows of ``query`` whose ``column`` is one of ``values`` (all of them when None), asked in
    batches so that no statement carries thousands of parameters."""
    if values is None:
        return connection.execute(query).all()
    wanted = sorted(set(values))
    return [
        r
        for n in range(0, len(wanted), batch)
        for r in connection.execute(query.where(column.in_(wanted[n : n + batch])))
    ]
