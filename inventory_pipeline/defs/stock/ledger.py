"""Applying a checked snapshot to ``inventory_data``: set-based, in one transaction, idempotent.

The rows go to a temporary staging table first (``LOAD DATA LOCAL INFILE`` where the MySQL server
allows it, multi-row inserts elsewhere); then a few statements record what changed in
``inventory_history``, write new and changed rows, and bring to zero whatever the snapshot no longer
reports. Only those rows are written: a steady-state sync writes O(changed) rows. The slice's sync
time (``accounts.last_synced_at``) is the snapshot's fetch time, one row per slice; a row's own
``last_sync_at`` is the fetch time of the snapshot that last changed it.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

import numpy as np
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    Select,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.dialect import (
    bulk_load_allowed,
    drop_temporary,
    locked_transaction,
    select_in,
    upsert_from_select,
)
from inventory_pipeline.db.tables import KEY_COLUMNS, accounts, inventory_data, inventory_history
from inventory_pipeline.defs.stock import row_diff
from inventory_pipeline.defs.stock.normalize import Keep
from inventory_pipeline.settings import MAX_STOCK_VALUE

STOCK_COLUMNS = (
    "product_id",
    "marketplace_sku",
    "warehouse_name",
    "current_stock",
    "reserved_stock",
    "available_stock",
)
ROW_COLUMNS = (*KEY_COLUMNS, *STOCK_COLUMNS)
INSERT_CHUNK = 5000
SLICE_LOCK_SECONDS = 600  # a second run of the same slice waits this long for the first to finish
SOURCES = ("haier", "ozon", "wb")  # whose rows the ledger holds, one slice per source and account
HISTORY_COLUMNS = [
    *KEY_COLUMNS,
    "current_before",
    "current_after",
    "reserved_before",
    "reserved_after",
    "changed_at",
    "run_id",
    "change",
]


class StageError(RuntimeError):
    """The database would not have stored the snapshot's rows exactly; nothing was written."""


def _refuse_duplicates(count: int) -> None:
    """One row would silently win over another: the whole apply is refused instead."""
    if count:
        raise StageError(
            f"{count} (SKU, warehouse, type) keys appear more than once in the rows to apply; nothing was written"
        )


@dataclass
class ApplyResult:
    staged: int = 0
    inserted: int = 0
    changed: int = 0
    zeroed: int = 0
    corrupt_removed: int = 0
    first_sync: bool = False
    compared: str = "ledger"  # "snapshots" when only the changes since the last applied snapshot were staged
    not_compared: str | None = None  # why snapshots could not be compared, when they were offered
    figures_change: tuple[int, ...] = (0, 0, 0, 0)  # what the written rows added to the slice's figures
    health: SliceHealth | None = None  # the slice after the apply


def _stage_table() -> Table:
    """A per-connection temporary table: concurrent applies never see each other's rows."""
    columns = [Column(c.name, c.type, nullable=False) for c in inventory_data.columns if c.name in ROW_COLUMNS]
    table = Table("inventory_stage", MetaData(), *columns, prefixes=["TEMPORARY"])
    Index("ix_inventory_stage_key", *(table.c[k] for k in KEY_COLUMNS))
    return table


def _diff_table() -> Table:
    """The staged rows that are new or differ from the ledger, with their previous figures."""
    columns = [Column(c.name, c.type, nullable=False) for c in inventory_data.columns if c.name in ROW_COLUMNS]
    return Table(
        "inventory_diff",
        MetaData(),
        *columns,
        Column("id", inventory_data.c.id.type),  # the ledger row to update; none for a new row
        Column("is_new", Integer, nullable=False),
        Column("current_before", Integer),
        Column("reserved_before", Integer),
        Column("available_before", Integer),
        prefixes=["TEMPORARY"],
    )


_row_values = itemgetter(*ROW_COLUMNS)


def rows_to_tsv(rows: list[dict]) -> bytes:
    """Ledger rows in the staging format: tab-separated ``ROW_COLUMNS``, every text quoted (unquoted,
    a SKU named NULL would load as SQL NULL), one row per line."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", quotechar='"', lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerows(map(_row_values, rows))
    return out.getvalue().encode()


def rows_from_tsv(data: bytes) -> list[dict]:
    reader = csv.reader(io.StringIO(data.decode()), delimiter="\t", quotechar='"', quoting=csv.QUOTE_NONNUMERIC)
    return [
        {c: int(v) if isinstance(v, float) else v for c, v in zip(ROW_COLUMNS, fields, strict=True)}
        for fields in reader
    ]


# A chunk of rows: dicts, or TSV bytes as rows_to_tsv makes them (a snapshot's stored rows).
Chunk = list[dict] | bytes


@dataclass(frozen=True)
class Comparison:
    """What a steady-state sync compares instead of every ledger row: the snapshot the slice was last
    made equal to, and the stored rows of that snapshot and of the new one."""

    previous_id: int
    previous: row_diff.Stored
    new: row_diff.Stored


DUPLICATE_KEY = 1062  # MySQL's warning for a row LOAD DATA LOCAL skipped as a duplicate key


def _bulk_load(conn: Connection, table: str, chunks: Iterable[Chunk], extra: str = "", **params) -> tuple[int, int]:
    """``LOAD DATA LOCAL INFILE`` of the rows into ``table`` (``extra``: a SET clause and its
    ``params``); (rows sent, rows loaded). A duplicate key is skipped and counted; any other
    warning (a value cut or converted) fails the load, as nothing may change on the way in."""
    sent = 0
    handle = tempfile.NamedTemporaryFile("wb", suffix=".tsv", delete=False)  # noqa: SIM115
    try:
        with handle:
            for chunk in chunks:
                data = chunk if isinstance(chunk, bytes) else rows_to_tsv(chunk)
                handle.write(data)
                sent += data.count(b"\n")
        loaded = conn.execute(
            text(
                f"LOAD DATA LOCAL INFILE :path INTO TABLE {table} CHARACTER SET utf8mb4 "
                "FIELDS TERMINATED BY '\\t' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
                f"LINES TERMINATED BY '\\n' ({', '.join(ROW_COLUMNS)}) {extra}"
            ),
            {"path": handle.name, **params},
        ).rowcount
        warned = conn.exec_driver_sql("SHOW COUNT(*) WARNINGS").scalar_one()
        if warned != sent - loaded:
            sample = [w for w in conn.exec_driver_sql("SHOW WARNINGS").all() if w[1] != DUPLICATE_KEY][:5]
            raise StageError(f"staging changed {warned}+ values: " + "; ".join(str(w[2]) for w in sample))
    finally:
        os.unlink(handle.name)
    return sent, loaded


def _stage(conn: Connection, stage: Table, chunks: Iterable[Chunk]) -> int:
    if bulk_load_allowed(conn):
        return _bulk_load(conn, stage.name, chunks)[0]
    staged = 0
    for chunk in chunks:
        chunk = rows_from_tsv(chunk) if isinstance(chunk, bytes) else chunk
        for start in range(0, len(chunk), INSERT_CHUNK):
            part = chunk[start : start + INSERT_CHUNK]
            conn.execute(insert(stage), [{c: r[c] for c in ROW_COLUMNS} for r in part])
            staged += len(part)
    return staged


def _differs(s: Table, d: Table):
    return or_(d.c.id.is_(None), *(d.c[c] != s.c[c] for c in STOCK_COLUMNS))


def _not_newer(d: Table, fetched_at: datetime):
    """Ledger rows not read more recently than this answer: a fast-path read of a few SKUs made while
    a full sync was reading is newer than what that sync read, and stays."""
    return or_(d.c.id.is_(None), d.c.last_sync_at <= fetched_at)


def _write(conn: Connection, source_rows: Select, fetched_at: datetime, now: datetime) -> None:
    conn.execute(
        upsert_from_select(
            conn,
            inventory_data,
            [*ROW_COLUMNS, "last_sync_at", "updated_at", "first_seen_at"],
            source_rows.add_columns(literal(fetched_at), literal(now), literal(fetched_at)),
            KEY_COLUMNS,
            [*STOCK_COLUMNS, "last_sync_at", "updated_at"],  # first_seen_at stays as first written
        )
    )


def _apply_changes(
    conn: Connection,
    stage: Table,
    fetched_at: datetime,
    run_id: str,
    now: datetime,
    result: ApplyResult,
    count_figures: bool = False,
) -> None:
    """One join of the snapshot against the ledger finds what is new or different; history, counts
    and writes then read only those rows (and, ``count_figures``, what they add to the slice's figures)."""
    s, d, diff = stage, inventory_data, _diff_table()
    drop_temporary(conn, diff)
    diff.create(conn)
    try:
        joined = s.outerjoin(d, and_(*(d.c[k] == s.c[k] for k in KEY_COLUMNS)))
        conn.execute(
            insert(diff).from_select(
                [*ROW_COLUMNS, "id", "is_new", "current_before", "reserved_before", "available_before"],
                select(
                    *(s.c[c] for c in ROW_COLUMNS),
                    d.c.id,
                    case((d.c.id.is_(None), 1), else_=0),
                    d.c.current_stock,
                    d.c.reserved_stock,
                    d.c.available_stock,
                )
                .select_from(joined)
                .where(_differs(s, d), _not_newer(d, fetched_at)),
            )
        )
        moved = or_(
            diff.c.is_new == 1,
            diff.c.current_before != diff.c.current_stock,
            diff.c.reserved_before != diff.c.reserved_stock,
        )
        conn.execute(
            insert(inventory_history).from_select(
                HISTORY_COLUMNS,
                select(
                    *(diff.c[k] for k in KEY_COLUMNS),
                    diff.c.current_before,
                    diff.c.current_stock,
                    diff.c.reserved_before,
                    diff.c.reserved_stock,
                    literal(now),
                    literal(run_id),
                    case((diff.c.is_new == 1, "new"), else_="changed"),
                ).where(moved),
            )
        )
        inserted, total = conn.execute(select(func.coalesce(func.sum(diff.c.is_new), 0), func.count())).one()
        result.inserted, result.changed = int(inserted), int(total) - int(inserted)  # MySQL sums are Decimal
        # Changed rows by their id, found by the join above: one lookup each, not a second by the key.
        conn.execute(
            update(d)
            .where(d.c.id == diff.c.id)
            .values({**{c: diff.c[c] for c in STOCK_COLUMNS}, "last_sync_at": fetched_at, "updated_at": now})
        )
        if inserted:
            _write(conn, select(*(diff.c[c] for c in ROW_COLUMNS)).where(diff.c.id.is_(None)), fetched_at, now)
        if count_figures:
            after = _figure_columns(diff.c.current_stock, diff.c.reserved_stock, diff.c.available_stock)
            before = _figure_columns(diff.c.current_before, diff.c.reserved_before, diff.c.available_before)
            figures = conn.execute(select(*after, *before)).one()
            result.figures_change = tuple(int(a) - int(b) for a, b in zip(figures[:4], figures[4:], strict=True))
    finally:
        drop_temporary(conn, diff)


def _figure_columns(current, reserved, available) -> list:
    """Count and sums of the non-zero rows among some rows: a slice's figures, or a change's share."""
    nonzero = or_(current != 0, reserved != 0, available != 0)  # NULL (no row before) counts as zero
    return [
        func.coalesce(func.sum(case((nonzero, 1), else_=0)), 0),
        *(func.coalesce(func.sum(column), 0) for column in (current, reserved, available)),
    ]


def _gone_table() -> Table:
    """Keys a snapshot no longer reports, when snapshots were compared."""
    columns = [Column(k, inventory_data.c[k].type, nullable=False) for k in KEY_COLUMNS]
    return Table("inventory_gone", MetaData(), *columns, prefixes=["TEMPORARY"])


def _zero_vanished(
    conn: Connection,
    keys: Table,
    source: str,
    account: str,
    fetched_at: datetime,
    run_id: str,
    now: datetime,
    listed: bool = False,
    within: dict[str, Sequence[str]] | None = None,
    count_lost: bool = False,
) -> tuple[int, tuple[int, ...]]:
    """Rows of the slice the snapshot no longer reports (not in the stage ``keys``, or, ``listed``,
    in the table of gone ``keys``, read from it rather than by a pass over the slice), among the rows
    ``within`` selects: recorded in history, then set to zero. Returns how many, and (``count_lost``)
    the figures they took out of the slice's."""
    d, s = inventory_data, keys
    matches = and_(*(s.c[k] == d.c[k] for k in KEY_COLUMNS))
    nonzero = or_(d.c.current_stock != 0, d.c.reserved_stock != 0, d.c.available_stock != 0)
    rows = d.join(s, matches) if listed else d
    gone = and_(
        d.c.source == source,
        d.c.account == account,
        nonzero,
        _not_newer(d, fetched_at),
        *(d.c[column].in_(list(values)) for column, values in (within or {}).items()),
    )
    if not listed:
        gone = and_(gone, ~exists().where(matches))
    lost = (0, 0, 0, 0)
    if count_lost:
        figures = _figure_columns(d.c.current_stock, d.c.reserved_stock, d.c.available_stock)
        lost = tuple(int(v) for v in conn.execute(select(*figures).select_from(rows).where(gone)).one())
    zeroed = conn.execute(
        insert(inventory_history).from_select(
            HISTORY_COLUMNS,
            select(
                *(d.c[k] for k in KEY_COLUMNS),
                d.c.current_stock,
                literal(0),
                d.c.reserved_stock,
                literal(0),
                literal(now),
                literal(run_id),
                literal("vanished"),
            )
            .select_from(rows)
            .where(gone),
        )
    ).rowcount
    write = update(d).where(gone, matches) if listed else update(d).where(gone)
    conn.execute(
        write.values(current_stock=0, reserved_stock=0, available_stock=0, last_sync_at=fetched_at, updated_at=now)
    )
    return zeroed, lost


def remove_corrupt(conn: Connection, source: str, account: str) -> int:
    """The cron stock-sync service's recovery step: delete rows with NULL or negative stock before a full resync."""
    d = inventory_data
    return conn.execute(
        delete(d).where(
            d.c.source == source,
            d.c.account == account,
            or_(d.c.current_stock.is_(None), d.c.current_stock < 0, d.c.reserved_stock < 0),
        )
    ).rowcount


def apply(
    engine: Engine,
    source: str,
    account: str,
    fetched_at: datetime,
    chunks: Iterable[Chunk],
    run_id: str,
    full_resync: bool = False,
    zero_missing: bool = True,
    snapshot_id: int | None = None,
    comparison: Comparison | None = None,
    max_stock: int = MAX_STOCK_VALUE,
    zero_within: dict[str, Sequence[str]] | None = None,
) -> ApplyResult:
    """Make the ledger slice (source, account) equal to the snapshot ``snapshot_id``, in one transaction.

    History records what changed against the previous state; the first sync of a slice has no
    previous state, so it is the baseline and writes no history rows. ``zero_missing=False`` is for
    a read known to be incomplete: rows it did not report keep their figures. ``zero_within`` narrows
    what a missing row can mean to what was asked for (``{"warehouse_id": counties}``): rows outside
    it keep their figures.

    ``comparison`` lets a steady-state sync stage only what changed since the snapshot the slice was
    last made equal to. It is kept only if the slice provably still held that snapshot: after the
    writes, the slice's row count and sums must be those recorded after that sync plus what the
    writes changed; otherwise it is rolled back and every row is staged and compared with the ledger,
    as in a full resync (which never takes the shortcut). ``chunks`` is read only then.
    ``max_stock``: the limit the slice's health counts rows above."""
    not_compared = None
    if comparison and not full_resync:
        try:
            return _apply_since(engine, source, account, fetched_at, run_id, snapshot_id, comparison, max_stock)
        except row_diff.NotComparable as why:
            not_compared = str(why)
    result = ApplyResult(not_compared=not_compared)
    d = inventory_data
    with _slice_transaction(engine, source, account) as (conn, stage, _):
        now = utcnow()  # once the slice is ours: no write is stamped before a reader's mark
        if full_resync:
            result.corrupt_removed = remove_corrupt(conn, source, account)
        result.first_sync = (
            conn.execute(select(d.c.id).where(d.c.source == source, d.c.account == account).limit(1)).first() is None
        )
        if result.first_sync and bulk_load_allowed(conn):
            # An empty slice takes the rows straight in, as fast as the server loads a file.
            sent, loaded = _bulk_load(
                conn,
                d.name,
                chunks,
                "SET last_sync_at = :fetched, first_seen_at = :fetched, updated_at = :now",
                fetched=fetched_at,
                now=now,
            )
            _refuse_duplicates(sent - loaded)
            result.staged, result.inserted = sent, loaded
        else:
            _apply_staged(
                conn, stage, source, account, fetched_at, run_id, now, chunks, zero_missing, result, zero_within
            )
        figures, result.health, newer = _scan(conn, source, account, max_stock, fetched_at)
        _mark_synced(conn, source, account, fetched_at, now, None if newer else snapshot_id, figures)
    return result


def slice_lock_name(source: str, account: str) -> str:
    return f"inventory:{source}:{account}"


def account_slices(account: str) -> list[str]:
    """The lock names of every ledger slice of ``account``."""
    return [slice_lock_name(source, account) for source in SOURCES]


@contextmanager
def _slice_transaction(engine: Engine, source: str, account: str) -> Iterator[tuple[Connection, Table, Table]]:
    """One transaction holding the slice's lock, with empty staging and gone-keys tables."""
    stage, gone = _stage_table(), _gone_table()
    with locked_transaction(engine, [slice_lock_name(source, account)], SLICE_LOCK_SECONDS) as conn:
        for table in (stage, gone):
            drop_temporary(conn, table)  # a pooled connection may still hold one from a failed apply
            # First, before any write: on MySQL the CREATE INDEX of a temporary table commits implicitly.
            table.create(conn)
        try:
            yield conn, stage, gone
        finally:
            for table in (stage, gone):
                drop_temporary(conn, table)


def _apply_since(
    engine: Engine,
    source: str,
    account: str,
    fetched_at: datetime,
    run_id: str,
    snapshot_id: int | None,
    comparison: Comparison,
    max_stock: int,
) -> ApplyResult:
    """The steady-state shortcut: only what changed since the previous snapshot is written. Raises
    ``NotComparable`` (and the transaction rolls back) when the slice did not hold that snapshot."""
    result = ApplyResult()
    with _slice_transaction(engine, source, account) as (conn, stage, gone):
        now = utcnow()  # once the slice is ours: no write is stamped before a reader's mark
        recorded = _recorded(conn, source, account, comparison.previous_id)
        _apply_compared(conn, stage, gone, source, account, fetched_at, run_id, now, comparison, result)
        figures, result.health, newer = _scan(conn, source, account, max_stock, fetched_at)
        # The figures before plus what the changes added: anything else wrote to the slice meanwhile.
        expected = (int(b) + c for b, c in zip(recorded.split(","), result.figures_change, strict=True))
        if figures != ",".join(map(str, expected)):
            raise row_diff.NotComparable(f"the slice was changed since snapshot {comparison.previous_id} was applied")
        _mark_synced(conn, source, account, fetched_at, now, None if newer else snapshot_id, figures)
    return result


def _apply_staged(
    conn: Connection,
    stage: Table,
    source: str,
    account: str,
    fetched_at: datetime,
    run_id: str,
    now: datetime,
    chunks: Iterable[Chunk],
    zero_missing: bool,
    result: ApplyResult,
    zero_within: dict[str, Sequence[str]] | None = None,
) -> None:
    """Stage every row and compare it with the ledger; zero what the snapshot no longer reports
    (within ``zero_within``, when given)."""
    d = inventory_data
    result.staged = _stage(conn, stage, chunks)
    keys = _staged_keys(conn, stage)
    if result.first_sync:
        _write(conn, select(*(stage.c[c] for c in ROW_COLUMNS)), fetched_at, now)
        result.inserted = int(keys)
        return
    _apply_changes(conn, stage, fetched_at, run_id, now, result)
    in_slice = conn.execute(
        select(func.count()).select_from(d).where(d.c.source == source, d.c.account == account)
    ).scalar_one()
    if zero_missing and in_slice > keys:
        result.zeroed = _zero_vanished(conn, stage, source, account, fetched_at, run_id, now, within=zero_within)[0]


def _staged_keys(conn: Connection, stage: Table) -> int:
    """How many keys are staged; refused when one is staged twice."""
    per_key = select(func.count().label("n")).select_from(stage).group_by(*(stage.c[k] for k in KEY_COLUMNS)).subquery()
    keys, duplicated = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((per_key.c.n > 1, 1), else_=0)), 0)).select_from(per_key)
    ).one()
    _refuse_duplicates(int(duplicated))
    return int(keys)


def apply_partial(
    engine: Engine,
    source: str,
    account: str,
    fetched_at: datetime,
    rows: list[dict],
    run_id: str,
    zero_within: dict[str, Sequence[str]] | None = None,
) -> ApplyResult:
    """The rows a targeted read of a few SKUs answered, into the ledger under the slice's lock, in one
    transaction: history and writes as for a full sync, nothing else in the slice touched. A row the
    answer did not report goes to zero only ``zero_within`` (the SKUs whose answer was complete).

    The slice then no longer holds the snapshot it was last made equal to: the next full sync
    compares with the ledger rather than with that snapshot, and its own older reads of these rows
    do not overwrite them."""
    result = ApplyResult(compared="signals")
    a = accounts
    this = and_(a.c.marketplace == source, a.c.name == account)
    with _slice_transaction(engine, source, account) as (conn, stage, _):
        now = utcnow()  # once the slice is ours: no write is stamped before a reader's mark
        result.staged = _stage(conn, stage, [rows]) if rows else 0
        _staged_keys(conn, stage)
        _apply_changes(conn, stage, fetched_at, run_id, now, result, count_figures=True)
        if zero_within and all(zero_within.values()):
            result.zeroed, lost = _zero_vanished(
                conn, stage, source, account, fetched_at, run_id, now, within=zero_within, count_lost=True
            )
            result.figures_change = tuple(c - x for c, x in zip(result.figures_change, lost, strict=True))
        recorded = conn.execute(select(a.c.row_figures).where(this)).scalar()
        # The slice's figures stay what its rows add up to, without a pass over them.
        figures = (
            ",".join(str(int(b) + c) for b, c in zip(recorded.split(","), result.figures_change, strict=True))
            if recorded
            else None
        )
        conn.execute(update(a).where(this).values(snapshot_id=None, row_figures=figures))
    return result


def _apply_compared(
    conn: Connection,
    stage: Table,
    gone: Table,
    source: str,
    account: str,
    fetched_at: datetime,
    run_id: str,
    now: datetime,
    comparison: Comparison,
    result: ApplyResult,
) -> None:
    """Stage only the rows that differ from the previous snapshot, zero only the keys it lost."""
    changes = row_diff.diff(comparison.new, comparison.previous)
    _stage(conn, stage, [b"".join(line + b"\n" for line in changes.changed)])
    _refuse_duplicates(changes.duplicate_keys)
    result.compared, result.staged = "snapshots", changes.rows
    _apply_changes(conn, stage, fetched_at, run_id, now, result, count_figures=True)
    for start in range(0, len(changes.vanished), INSERT_CHUNK):
        batch = changes.vanished[start : start + INSERT_CHUNK]
        conn.execute(insert(gone), [dict(zip(KEY_COLUMNS, key, strict=True)) for key in batch])
    if changes.vanished:
        result.zeroed, lost = _zero_vanished(
            conn, gone, source, account, fetched_at, run_id, now, listed=True, count_lost=True
        )
        result.figures_change = tuple(c - x for c, x in zip(result.figures_change, lost, strict=True))


def _recorded(conn: Connection, source: str, account: str, snapshot_id: int) -> str:
    """The figures recorded when the slice was made equal to snapshot ``snapshot_id``."""
    a = accounts
    mark = conn.execute(
        select(a.c.snapshot_id, a.c.row_figures).where(a.c.marketplace == source, a.c.name == account)
    ).first()
    if not mark or mark.snapshot_id != snapshot_id or not mark.row_figures:
        raise row_diff.NotComparable(f"the slice was not last made equal to snapshot {snapshot_id}")
    return mark.row_figures


def _scan(
    conn: Connection, source: str, account: str, max_stock: int, fetched_at: datetime
) -> tuple[str, SliceHealth, int]:
    """One scan of the slice: its figures ("rows,current,reserved,available" of the non-zero rows, as
    recorded after a sync), its health, and how many of its rows were read after ``fetched_at`` (kept
    over this sync's older answer: the slice then does not hold this sync's snapshot exactly)."""
    d = inventory_data
    row = conn.execute(
        select(
            *_figure_columns(d.c.current_stock, d.c.reserved_stock, d.c.available_stock),
            func.count(),
            _count_where(or_(d.c.current_stock < 0, d.c.reserved_stock < 0)),
            _count_where(d.c.current_stock > max_stock),
            _count_where(d.c.reserved_stock > d.c.current_stock),
            _count_where(d.c.last_sync_at > fetched_at),
        ).where(d.c.source == source, d.c.account == account)
    ).one()
    values = [int(v) for v in row]  # MySQL sums are Decimal
    health = SliceHealth(
        rows=values[4],
        negative=values[5],
        above_max=values[6],
        reserved_over_present=values[7],
        total_present=values[1],  # zero rows add nothing to the sum
    )
    return ",".join(map(str, values[:4])), health, values[8]


def _mark_synced(
    conn: Connection,
    source: str,
    account: str,
    fetched_at: datetime,
    now: datetime,
    snapshot_id: int | None,
    figures: str,
) -> None:
    """The slice's sync time, snapshot and figures."""
    a = accounts
    this = and_(a.c.marketplace == source, a.c.name == account)
    values = {"last_synced_at": fetched_at, "snapshot_id": snapshot_id, "row_figures": figures}
    if conn.execute(select(a.c.id).where(this)).first() is None:
        conn.execute(insert(a).values(marketplace=source, name=account, first_seen_at=now, **values))
    else:
        conn.execute(update(a).where(this).values(**values))


def _count_where(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class SliceHealth:
    rows: int
    negative: int
    above_max: int
    reserved_over_present: int
    total_present: int


def account_health(engine: Engine, account: str, max_stock: int) -> dict[str, SliceHealth]:
    """The figures the cron stock-sync service's anomaly query looks at, per source of one account, in
    one scan."""
    d = inventory_data
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                d.c.source,
                func.count(),
                _count_where(or_(d.c.current_stock < 0, d.c.reserved_stock < 0)),
                _count_where(d.c.current_stock > max_stock),
                _count_where(d.c.reserved_stock > d.c.current_stock),
                func.coalesce(func.sum(d.c.current_stock), 0),
            )
            .where(d.c.account == account)
            .group_by(d.c.source)
        ).all()
    return {r[0]: SliceHealth(*(int(v) for v in r[1:])) for r in rows}


def stocked_sizes(engine: Engine, source: str, account: str, stock_type: str) -> dict[str, np.ndarray]:
    """Per warehouse, the marketplace size ids the ledger holds with stock, sorted: what an answer
    that suddenly reports none of them must explain. Numbers in an array, not a set of texts: a
    million stocked sizes are 8 MB, not 100."""
    d = inventory_data
    found: dict[str, array] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.c.warehouse_id, d.c.marketplace_sku).where(
                d.c.source == source, d.c.account == account, d.c.stock_type == stock_type, d.c.current_stock > 0
            )
        )
        for warehouse, size in rows:
            if size and size.isascii() and size.isdigit() and len(size) < 19:  # a size id; nothing else is asked for
                found.setdefault(warehouse, array("q")).append(int(size))
    return {warehouse: np.unique(np.array(sizes, dtype=np.int64)) for warehouse, sizes in found.items()}


def rows_where(engine: Engine, source: str, account: str, column: str, values: Iterable[str]) -> list[dict]:
    """The slice's rows whose ``column`` (``sku``, ``product_id``, ``marketplace_sku``) is one of ``values``."""
    d = inventory_data
    query = select(*(d.c[c] for c in ROW_COLUMNS)).where(d.c.source == source, d.c.account == account)
    with engine.connect() as conn:
        return [found._asdict() for found in select_in(conn, query, d.c[column], values)]


def kept_rows(engine: Engine, source: str, account: str, keeps: Iterable[Keep]) -> list[dict]:
    """The slice's rows matching what an answer could not read (``Keep``: a SKU, optionally one stock
    type and one warehouse), as ledger rows: carried into the snapshot, they keep their last value."""
    wanted: dict[str, list[Keep]] = {}
    for keep in keeps:
        wanted.setdefault(keep.sku, []).append(keep)
    return [
        r
        for r in rows_where(engine, source, account, "sku", wanted)
        if any(
            k.stock_type in (None, r["stock_type"]) and k.warehouse_id in (None, r["warehouse_id"])
            for k in wanted[r["sku"]]
        )
    ]


def last_applied(engine: Engine, source: str, account: str) -> int | None:
    """The snapshot the slice was last made equal to."""
    a = accounts
    with engine.connect() as conn:
        return conn.execute(
            select(a.c.snapshot_id).where(a.c.marketplace == source, a.c.name == account)
        ).scalar_one_or_none()


def freshness(engine: Engine) -> dict[tuple[str, str], datetime]:
    """When each (source, account) slice was last synced."""
    a = accounts
    with engine.connect() as conn:
        rows = conn.execute(select(a.c.marketplace, a.c.name, a.c.last_synced_at)).all()
    return {(r[0], r[1]): r[2] for r in rows if r[2] is not None}


@dataclass
class Preview:
    """What applying a snapshot would change (the dry run: nothing is written)."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    zeroed: int = 0
    sample: list[dict] | None = None


def preview(engine: Engine, source: str, account: str, chunks: Iterable[list[dict]]) -> Preview:
    d = inventory_data
    with engine.connect() as conn:
        current = {
            tuple(r[:5]): (r[5], r[6])
            for r in conn.execute(
                select(*(d.c[k] for k in KEY_COLUMNS), d.c.current_stock, d.c.reserved_stock).where(
                    d.c.source == source, d.c.account == account
                )
            )
        }
    result = Preview(sample=[])
    seen: set[tuple] = set()
    for chunk in chunks:
        for r in chunk:
            key = tuple(r[k] for k in KEY_COLUMNS)
            seen.add(key)
            before = current.get(key)
            after = (r["current_stock"], r["reserved_stock"])
            if before == after:
                result.unchanged += 1
                continue
            if before is None:
                result.new += 1
            else:
                result.changed += 1
            if len(result.sample) < 20:
                result.sample.append(
                    {
                        "sku": r["sku"],
                        "stock_type": r["stock_type"],
                        "warehouse_id": r["warehouse_id"],
                        "before": before[0] if before else None,
                        "after": after[0],
                    }
                )
    result.zeroed = sum(1 for key, (cur, res) in current.items() if key not in seen and (cur or res))
    return result
