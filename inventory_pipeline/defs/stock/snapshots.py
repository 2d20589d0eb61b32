"""Raw snapshots: every page an API sent, kept (gzip) so that any run can be audited and replayed."""

from __future__ import annotations

import gzip
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import orjson
from sqlalchemy import Engine, Table, insert, literal, or_, select, update

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.tables import stock_snapshot_pages, stock_snapshot_rows, stock_snapshots
from inventory_pipeline.defs.stock import row_diff
from inventory_pipeline.defs.stock.ledger import rows_to_tsv
from inventory_pipeline.resources.pages import RawPage


@dataclass(frozen=True)
class Snapshot:
    id: int
    source: str
    account: str
    run_id: str
    fetched_at: datetime
    status: str
    sku_count: int
    row_count: int
    skipped_count: int
    applied_at: datetime | None
    part_rows: dict[str, int]


class SnapshotWriter:
    """Stores pages as they arrive. A thread of its own compresses them and writes a few at a time in
    one transaction (at most ``FLUSH_ITEMS`` or ``FLUSH_BYTES`` compressed held), while the fetch goes
    on normalizing the next page; at most ``QUEUED`` items wait for it, so memory holds a few pages."""

    FLUSH_ITEMS = 32
    FLUSH_BYTES = 2 << 20  # the driver escapes the batch into one statement: keep it small
    QUEUED = 4

    def __init__(self, engine: Engine, source: str, account: str, run_id: str) -> None:
        self.engine = engine
        self.fetched_at = utcnow()
        self.pages = 0
        self.chunks = 0
        self._pending: list[tuple[Table, dict]] = []
        self._pending_bytes = 0
        with engine.begin() as conn:
            result = conn.execute(
                insert(stock_snapshots).values(
                    source=source, account=account, run_id=run_id, fetched_at=self.fetched_at, status="fetching"
                )
            )
            self.id = int(result.inserted_primary_key[0])
        self._work: queue.Queue = queue.Queue(maxsize=self.QUEUED)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._store, name="snapshot-writer", daemon=True)
        self._thread.start()

    def add_rows(self, rows: list[dict]) -> None:
        """The ledger rows normalized from the pages, stored once so the ledger step need not parse
        again, with the hash of each line and of each key so the next sync can compare by hashes."""
        if not rows:
            return
        tsv = rows_to_tsv(rows)
        lines, keys = row_diff.line_hashes(tsv), row_diff.key_hashes(rows)
        if len(lines) != len(keys):
            raise ValueError(f"{len(rows)} rows made {len(lines)} lines: a row holds a line break")
        values = {
            "snapshot_id": self.id,
            "chunk_no": self.chunks,
            "line_hashes": lines.tobytes(),
            "key_hashes": keys.tobytes(),
        }
        self._submit(stock_snapshot_rows, values, "rows_gzip", tsv)
        self.chunks += 1

    def add(self, page: RawPage) -> None:
        values = {"snapshot_id": self.id, "page_no": self.pages, "part": page.part}
        self._submit(stock_snapshot_pages, values, "body_gzip", page.body)
        self.pages += 1

    def _submit(self, table: Table, values: dict, column: str, raw: bytes) -> None:
        self._raise_failure()
        self._work.put((table, values, column, raw))

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise RuntimeError(f"storing snapshot {self.id} failed: {self._failure}") from self._failure

    def _store(self) -> None:
        while (item := self._work.get()) is not None:
            if self._failure is not None:
                continue  # drained, so that the fetch never blocks on a writer that has stopped
            table, values, column, raw = item
            try:
                body = gzip.compress(raw, 1)
                self._pending.append((table, {**values, column: body}))
                self._pending_bytes += len(body) + sum(len(v) for v in values.values() if isinstance(v, bytes))
                if len(self._pending) >= self.FLUSH_ITEMS or self._pending_bytes >= self.FLUSH_BYTES:
                    self._flush()
            except BaseException as exc:  # raised in the fetch at its next page, or at finish
                self._failure = exc

    def _flush(self) -> None:
        if not self._pending:
            return
        with self.engine.begin() as conn:
            for table in (stock_snapshot_pages, stock_snapshot_rows):
                batch = [values for t, values in self._pending if t is table]
                if batch:
                    conn.execute(insert(table), batch)
        self._pending, self._pending_bytes = [], 0

    def finish(
        self,
        status: str,
        sku_count: int,
        row_count: int,
        api_calls: int,
        reason: str | None,
        skipped_count: int = 0,
        part_rows: dict[str, int] | None = None,
    ) -> None:
        self._work.put(None)
        self._thread.join()
        if self._failure is None:
            self._flush()
        else:  # recorded as failed, then raised: pages are missing, nothing may judge or apply it
            status, reason = "failed", f"storing its pages failed: {self._failure}"[:2000]
        with self.engine.begin() as conn:
            conn.execute(
                update(stock_snapshots)
                .where(stock_snapshots.c.id == self.id)
                .values(
                    status=status,
                    sku_count=sku_count,
                    row_count=row_count,
                    skipped_count=skipped_count,
                    page_count=self.pages,
                    api_calls=api_calls,
                    reason=reason,
                    part_rows=orjson.dumps(part_rows or {}).decode(),
                )
            )
        self._raise_failure()


def _snapshot(row) -> Snapshot:
    return Snapshot(
        row.id,
        row.source,
        row.account,
        row.run_id,
        row.fetched_at,
        row.status,
        row.sku_count,
        row.row_count,
        row.skipped_count,
        row.applied_at,
        orjson.loads(row.part_rows) if row.part_rows else {},
    )


def latest(
    engine: Engine, source: str, account: str, status: str = "accepted", before_id: int | None = None
) -> Snapshot | None:
    """The newest snapshot with ``status`` (optionally older than ``before_id``)."""
    query = select(stock_snapshots).where(
        stock_snapshots.c.source == source, stock_snapshots.c.account == account, stock_snapshots.c.status == status
    )
    if before_id is not None:
        query = query.where(stock_snapshots.c.id < before_id)
    with engine.connect() as conn:
        row = conn.execute(query.order_by(stock_snapshots.c.id.desc()).limit(1)).first()
    return _snapshot(row) if row else None


def pages(engine: Engine, snapshot_id: int, parts: tuple[str, ...] | None = None) -> Iterator[tuple[str, object]]:
    """(part, payload) of each stored page in fetch order, streamed over one connection so that one
    page is in memory at a time; ``parts`` keeps only pages whose part starts with one of them."""
    p = stock_snapshot_pages
    query = select(p.c.part, p.c.body_gzip).where(p.c.snapshot_id == snapshot_id)
    if parts:
        query = query.where(or_(*(p.c.part.startswith(prefix, autoescape=True) for prefix in parts)))
    with engine.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=4).execute(query.order_by(p.c.page_no))
        for part, body in rows:
            yield part, orjson.loads(gzip.decompress(body))


def stored_rows(engine: Engine, snapshot_id: int) -> Iterator[bytes]:
    """The snapshot's ledger rows as stored when it was fetched: TSV chunks, streamed."""
    r = stock_snapshot_rows
    with engine.connect() as conn:
        query = select(r.c.rows_gzip).where(r.c.snapshot_id == snapshot_id).order_by(r.c.chunk_no)
        for (body,) in conn.execution_options(stream_results=True, yield_per=4).execute(query):
            yield gzip.decompress(body)


def _hashes(engine: Engine, snapshot_id: int, keys: bool) -> Iterator[row_diff.HashedChunk]:
    r = stock_snapshot_rows
    columns = [r.c.chunk_no, r.c.line_hashes, r.c.key_hashes if keys else literal(None)]
    query = select(*columns).where(r.c.snapshot_id == snapshot_id).order_by(r.c.chunk_no)
    with engine.connect() as conn:
        for chunk_no, lines, key_hashes in conn.execution_options(stream_results=True, yield_per=64).execute(query):
            if lines is None or (keys and key_hashes is None):  # every chunk has them since migration 0013
                raise row_diff.NotComparable(f"chunk {chunk_no} of snapshot {snapshot_id} has lost its hashes")
            yield (
                chunk_no,
                np.frombuffer(lines, dtype=np.uint64),
                np.frombuffer(key_hashes, dtype=np.uint64) if keys else None,
            )


def _chunks(engine: Engine, snapshot_id: int, chunk_nos: list[int]) -> Iterator[tuple[int, bytes]]:
    r = stock_snapshot_rows
    with engine.connect() as conn:
        for start in range(0, len(chunk_nos), 1000):
            query = (
                select(r.c.chunk_no, r.c.rows_gzip)
                .where(r.c.snapshot_id == snapshot_id, r.c.chunk_no.in_(chunk_nos[start : start + 1000]))
                .order_by(r.c.chunk_no)
            )
            for chunk_no, body in conn.execution_options(stream_results=True, yield_per=4).execute(query):
                yield chunk_no, gzip.decompress(body)


def hashed(engine: Engine, snapshot_id: int) -> row_diff.Stored:
    """The snapshot's stored rows as the hash compare reads them. A snapshot that is no longer stored
    cannot be compared with: read as empty, nothing would count as gone."""
    with engine.connect() as conn:
        rows = conn.execute(select(stock_snapshots.c.row_count).where(stock_snapshots.c.id == snapshot_id)).scalar()

    def hashes(keys: bool) -> Iterator[row_diff.HashedChunk]:
        if rows is None:
            raise row_diff.NotComparable(f"snapshot {snapshot_id}, the one the slice was last made equal to, is gone")
        return _hashes(engine, snapshot_id, keys)

    return row_diff.Stored(rows or 0, hashes, lambda chunk_nos: _chunks(engine, snapshot_id, chunk_nos))


def mark_applied(engine: Engine, snapshot_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(stock_snapshots).where(stock_snapshots.c.id == snapshot_id).values(applied_at=utcnow()))
