"""The one place where MySQL/MariaDB and SQLite statements differ."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Select, Table, text, true
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.sql.dml import Insert


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
