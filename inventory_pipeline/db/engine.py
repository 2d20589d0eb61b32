"""Engines for the inventory database and the Alembic migrations that shape it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from inventory_pipeline.db import preflight
from inventory_pipeline.settings import database_url

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


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
    """Bring the schema to the newest revision (idempotent). On MySQL the user's privileges are tried
    first: a migration that fails half-way cannot be rolled back there (its DDL commits as it goes)."""
    current, head = schema_revision(engine)
    if current == head:
        return
    preflight.check(engine)
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


def main(argv: list[str] | None = None) -> int:
    """``inventory-db``: migrate, report on, back up or restore the inventory database named by
    INVENTORY_DB_URL."""
    import argparse
    import sys
    from datetime import UTC, datetime
    from pathlib import Path

    from inventory_pipeline.settings import load_settings

    parser = argparse.ArgumentParser(
        prog="inventory-db", description="The inventory database named by INVENTORY_DB_URL (or .env)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("upgrade", help="apply every Alembic migration (idempotent)")
    commands.add_parser("current", help="the schema revision; exit 1 when behind the code")
    backup_cmd = commands.add_parser("backup", help="a dated, compressed copy into DIR (default BACKUP_DIR)")
    backup_cmd.add_argument("dir", nargs="?", type=Path, help="target folder")
    restore_cmd = commands.add_parser("restore", help="replace the database with a backup")
    restore_cmd.add_argument("file", type=Path, help="a file written by `inventory-db backup`")
    args = parser.parse_args(argv)
    if args.command == "restore" and not args.file.is_file():
        parser.error(f"no backup file at {args.file}")

    engine = make_engine(database_url())
    target = engine.url.render_as_string(hide_password=True)
    if args.command == "backup":
        from inventory_pipeline.defs.operations.backup import backup

        folder = args.dir or Path(load_settings().backup_dir)
        print(f"backup of {target}: {backup(engine, folder, datetime.now(UTC))}")
    elif args.command == "restore":
        from inventory_pipeline.defs.operations.backup import RestoreError, restore

        try:
            restore(engine, args.file)
        except (RestoreError, preflight.PrivilegeError) as exc:
            print(f"inventory-db restore: {exc}", file=sys.stderr)
            return 1
        print(f"{target} restored from {args.file}")
    elif args.command == "upgrade":
        try:
            migrate(engine)
        except preflight.PrivilegeError as exc:
            print(f"inventory-db upgrade: {exc}", file=sys.stderr)
            return 1
        print(f"inventory database at {target} is migrated to {schema_revision(engine)[1]}")
    else:
        current, head = schema_revision(engine)
        print(f"inventory database at {target}: revision {current or 'none'}, newest {head}")
        return 0 if current == head else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
