"""Engines for the inventory database and the Alembic migrations that shape it."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from inventory_pipeline.settings import default_db_url

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def database_url() -> str:
    return os.environ.get("INVENTORY_DB_URL", "").strip() or default_db_url()


def make_engine(url: str) -> Engine:
    """One engine per process and URL; SQLite gets WAL and a busy timeout so that a reader
    (the UI, a check) never fails a writer."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    connect_args = {"local_infile": True} if "+pymysql" in url else {}
    return create_engine(
        url, pool_pre_ping=True, pool_recycle=3600, pool_size=5, max_overflow=5, connect_args=connect_args
    )


def _alembic_config() -> Config:
    return Config(str(ALEMBIC_INI))


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_revision(engine: Engine) -> tuple[str | None, str]:
    """(revision the database is at, newest revision the code knows)."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


def main() -> None:
    """``inventory-db upgrade|current|backup [DIR]|restore FILE``: migrate, report, back up or restore
    the inventory database named by INVENTORY_DB_URL."""
    import sys

    action = sys.argv[1] if len(sys.argv) > 1 else "upgrade"
    engine = make_engine(database_url())
    target = engine.url.render_as_string(hide_password=True)
    if action in {"backup", "restore"}:
        from datetime import UTC, datetime
        from pathlib import Path

        from inventory_pipeline.backup import backup, restore

        if action == "backup":
            folder = Path(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BACKUP_DIR", "data/backups"))
            print(f"backup of {target}: {backup(engine, folder, datetime.now(UTC))}")
        elif len(sys.argv) < 3:
            sys.exit("usage: inventory-db restore BACKUP_FILE")
        else:
            restore(engine, Path(sys.argv[2]))
            print(f"{target} restored from {sys.argv[2]}")
        return
    if action == "upgrade":
        migrate(engine)
        print(f"inventory database at {target} is migrated to {schema_revision(engine)[1]}")
    elif action == "current":
        current, head = schema_revision(engine)
        print(f"inventory database at {target}: revision {current or 'none'}, newest {head}")
        sys.exit(0 if current == head else 1)
    else:
        sys.exit(f"usage: inventory-db upgrade|current|backup [DIR]|restore FILE (got {action!r})")


if __name__ == "__main__":
    main()
