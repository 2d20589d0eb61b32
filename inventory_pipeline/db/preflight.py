"""What the database user must be allowed to do, tried before an upgrade or a restore changes
anything: MySQL's DDL is not transactional, so a migration that fails half-way leaves a schema that
neither the old nor the new code can use (and that a re-run cannot complete).

Each privilege is tried on scratch objects named ``_inventory_probe*`` that are removed again."""

from __future__ import annotations

import contextlib

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

# The privileges the schema and a restore need, on the inventory database (README, Production §1).
PRIVILEGES = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "INDEX",
    "REFERENCES",
    "CREATE VIEW",
    "CREATE TEMPORARY TABLES",
)
PROBE, CHILD, VIEW = "_inventory_probe", "_inventory_probe_child", "_inventory_probe_view"


class PrivilegeError(RuntimeError):
    """The database user lacks a privilege the schema needs; nothing was changed."""


def _grant(engine: Engine) -> str:
    url = engine.url
    return f"GRANT {', '.join(PRIVILEGES)} ON `{url.database}`.* TO '{url.username or 'root'}'@'<its host>'"


def check(engine: Engine) -> None:
    """Raise ``PrivilegeError`` naming the first privilege the user lacks (MySQL/MariaDB; SQLite has none)."""
    if engine.dialect.name not in {"mysql", "mariadb"}:
        return
    steps = [
        ("CREATE", f"CREATE TABLE {PROBE} (id INT PRIMARY KEY, parent INT)"),
        ("INSERT", f"INSERT INTO {PROBE} VALUES (1, 1)"),
        ("SELECT", f"SELECT id FROM {PROBE}"),
        ("UPDATE", f"UPDATE {PROBE} SET parent = 2 WHERE id = 1"),
        ("DELETE", f"DELETE FROM {PROBE} WHERE id = 1"),
        ("ALTER", f"ALTER TABLE {PROBE} ADD COLUMN note VARCHAR(8)"),
        ("INDEX", f"CREATE INDEX ix_inventory_probe ON {PROBE} (parent)"),
        (
            "REFERENCES",
            f"CREATE TABLE {CHILD} (id INT PRIMARY KEY, probe_id INT, FOREIGN KEY (probe_id) REFERENCES {PROBE} (id))",
        ),
        ("CREATE VIEW", f"CREATE VIEW {VIEW} AS SELECT id FROM {PROBE}"),
        ("CREATE TEMPORARY TABLES", "CREATE TEMPORARY TABLE _inventory_probe_temporary (id INT)"),
        ("DROP", f"DROP VIEW IF EXISTS {VIEW}"),
        ("DROP", f"DROP TABLE IF EXISTS {CHILD}, {PROBE}"),
    ]
    with engine.connect() as conn:
        try:
            for privilege, statement in steps:
                try:
                    conn.execute(text(statement))
                except DBAPIError as exc:
                    reason = str(exc.orig) if exc.orig is not None else str(exc)
                    raise PrivilegeError(
                        f"the database user '{engine.url.username}' cannot {privilege} on "
                        f"'{engine.url.database}' ({reason[:200]}); nothing was changed. The schema and a "
                        f"restore need: {_grant(engine)}"
                    ) from None
        finally:
            _clean(conn)
            conn.rollback()


def _clean(conn) -> None:
    """Remove what a failed probe left (as far as the user may)."""
    for statement in (
        f"DROP VIEW IF EXISTS {VIEW}",
        f"DROP TABLE IF EXISTS {CHILD}",
        f"DROP TABLE IF EXISTS {PROBE}",
        "DROP TEMPORARY TABLE IF EXISTS _inventory_probe_temporary",
    ):
        with contextlib.suppress(DBAPIError):
            conn.execute(text(statement))
