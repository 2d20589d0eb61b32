"""The one place where MySQL/MariaDB and SQLite statements differ."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Select, Table
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
        stmt = sqlite.insert(table).from_select(list(columns), select)
        return stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in update})
    raise NotImplementedError(f"the inventory database supports MySQL/MariaDB and SQLite, not {name}")
