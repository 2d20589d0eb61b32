"""Every client waits for its turn before it asks, so that a sync takes the calls it needs and
provokes no 429 (real Wildberries penalizes a token that keeps hitting its limits).

A token bucket per seller account and method group, as the marketplaces publish their limits
(per minute, with a burst). The limits are the account's, whoever calls: every process that works
for the instance draws from the same buckets, kept where its inventory database is (a table on
MySQL, lock files beside a SQLite database), so that two accounts sync side by side, each inside its
own limits, and two runs of one account share that account's. A 429 that still comes empties the
bucket for as long as the server asks, and Wildberries' ``X-Ratelimit-Remaining`` lowers it to what
the server counts.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, insert, make_url, select, text, update

# The server starts counting when our request arrives, not when it left: a small margin keeps
# jitter in the network from spending a token the server has not refilled yet.
MARGIN = 1.05
MAX_HOLD_SECONDS = 120.0  # as long as a retry ever waits: a hint of an hour (or a date in 2099) is not obeyed


@dataclass(frozen=True)
class Rate:
    """A published limit: ``per_minute`` calls, ``burst`` of them at once."""

    per_minute: float
    burst: int

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute * MARGIN


@dataclass(frozen=True)
class Bucket:
    """One limit of one account: what ``group`` a call counts against, and what it costs when the
    server refuses the request itself (Wildberries counts a 4XX answer as ten requests)."""

    group: str
    rate: Rate
    refused_cost: int = 1


def available(state: tuple[float, float] | None, rate: Rate, now: float) -> float:
    """The tokens a bucket holds at ``now``, from what it held ``(tokens, at)``; a new bucket is full.
    A clock that went back (a restored host) refills nothing rather than a negative time's worth."""
    if state is None:
        return float(rate.burst)
    tokens, at = state
    return min(float(rate.burst), tokens + max(0.0, now - at) / rate.interval)


class Buckets:
    """The buckets of one process. ``_update`` is the one place state changes: the subclasses keep
    it where other processes see it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._state: dict[tuple, tuple[float, float]] = {}  # key -> (tokens, at); tokens < 0: callers queued

    def _update(self, key: tuple, rate: Rate, change: Callable[[float], float]) -> float:
        """Atomically: the tokens available now become ``change(tokens)``; returns them."""
        with self._lock:
            now = self._clock()
            tokens = change(available(self._state.get(key), rate, now))
            self._state[key] = (tokens, now)
        return tokens

    def take(self, key: tuple, rate: Rate, cost: int = 1) -> float:
        """Wait until ``cost`` tokens are this caller's; the seconds waited. Callers are served in
        the order they came: each reserves its token before it sleeps."""
        tokens = self._update(key, rate, lambda t: t - cost)
        wait = -tokens * rate.interval if tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def charge(self, key: tuple, rate: Rate, cost: int) -> None:
        """Spend ``cost`` more tokens without waiting (what a refused request cost beyond one)."""
        self._update(key, rate, lambda t: t - cost)

    def hold(self, key: tuple, rate: Rate, seconds: float) -> None:
        """The server said nothing is free for ``seconds``: the next caller waits that long (at most
        ``MAX_HOLD_SECONDS``)."""
        seconds = min(max(0.0, seconds), MAX_HOLD_SECONDS)
        self._update(key, rate, lambda t: min(t, 1 - seconds / rate.interval - 1e-9))

    def observe(self, key: tuple, rate: Rate, remaining: int) -> None:
        """The server counts ``remaining`` calls left in its burst: never believe in more."""
        self._update(key, rate, lambda t: min(t, float(remaining)))


class FileBuckets(Buckets):
    """Buckets shared by the processes of one host: a file per bucket holding ``(tokens, at)``,
    changed under an exclusive ``flock`` (beside a SQLite database, whose own write lock a ledger
    apply holds for seconds)."""

    def __init__(self, folder: Path, sleep: Callable[[float], None] = time.sleep):
        super().__init__(time.time, sleep)  # wall time: one clock for every process of the host
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder

    def _update(self, key: tuple, rate: Rate, change: Callable[[float], float]) -> float:
        path = self._folder / hashlib.sha1(repr(key).encode()).hexdigest()[:20]
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # per open file: threads of one process wait here too
            raw = os.pread(fd, 16, 0)
            now = self._clock()
            tokens = change(available(struct.unpack("<dd", raw) if len(raw) == 16 else None, rate, now))
            os.pwrite(fd, struct.pack("<dd", tokens, now), 0)
        finally:
            os.close(fd)  # and with it the lock
        return tokens


class DatabaseBuckets(Buckets):
    """Buckets shared by every process and host of the instance: a row per bucket in the inventory
    database, changed under its row lock, on the database server's clock."""

    def __init__(self, engine: Engine, sleep: Callable[[float], None] = time.sleep):
        super().__init__(sleep=sleep)
        self._engine = engine

    def _update(self, key: tuple, rate: Rate, change: Callable[[float], float]) -> float:
        from inventory_pipeline.db.tables import pacing_buckets as table

        name = "|".join(str(part) for part in key)
        locked = select(table.c.tokens, table.c.at_seconds).where(table.c.bucket == name).with_for_update()
        for _ in range(2):
            with self._engine.begin() as connection:
                row = connection.execute(locked).first()
                if row is not None:
                    # read after the lock is ours: the time a waiter spent queued is no refill to spend
                    now = float(connection.execute(text("SELECT UNIX_TIMESTAMP(NOW(6))")).scalar_one())
                    state = None if row.at_seconds == 0 else (row.tokens, row.at_seconds)
                    tokens = change(available(state, rate, now))
                    connection.execute(
                        update(table).where(table.c.bucket == name).values(tokens=tokens, at_seconds=now)
                    )
                    return tokens
            # A new bucket, created in a transaction of its own: two creators inside the locking one
            # would each hold the gap the other inserts into (a deadlock).
            with self._engine.begin() as connection:
                connection.execute(
                    insert(table).prefix_with("IGNORE").values(bucket=name, tokens=rate.burst, at_seconds=0)
                )
        raise RuntimeError(f"the pacing bucket {name!r} could not be created in pacing_buckets")


BUCKETS = Buckets()  # without a shared store (a test's client): one set per process
_SHARED: dict[tuple[int, str], Buckets] = {}
_SHARED_LOCK = threading.Lock()


def shared_buckets(database_url: str) -> Buckets:
    """The buckets of the instance whose inventory database is at ``database_url``: its table on
    MySQL, lock files beside a SQLite file; an in-memory database or none has this process's own.
    One per process (a forked step process makes its own connections)."""
    url = make_url(database_url) if database_url else None
    sqlite = url is not None and url.get_backend_name() == "sqlite"
    if url is None or (sqlite and url.database in (None, "", ":memory:")):
        return BUCKETS
    with _SHARED_LOCK:
        key = (os.getpid(), database_url)
        if key not in _SHARED:
            if sqlite:
                database = Path(url.database).resolve()
                _SHARED[key] = FileBuckets(database.parent / f".pacing-{database.name}")
            else:
                from inventory_pipeline.resources.database import checked_engine

                _SHARED[key] = DatabaseBuckets(checked_engine(database_url))
        return _SHARED[key]


@dataclass(frozen=True)
class Pacer:
    """The buckets of one account on one API; ``limits`` names the buckets a request counts against."""

    account: tuple
    limits: Callable[[str, str], tuple[Bucket, ...]]
    buckets: Buckets = BUCKETS

    def before(self, method: str, path: str) -> float:
        return sum(self.buckets.take((*self.account, b.group), b.rate) for b in self.limits(method, path))

    def after(self, method: str, path: str, status: int, remaining: str | None, retry_after: float | None) -> None:
        buckets = self.limits(method, path)
        if not buckets:
            return
        # A 429 and a count of what is left speak of the method's own limit, the last named: a
        # per-minute method refused must not hold every other method of the account.
        own = buckets[-1]
        key = (*self.account, own.group)
        if status == 429:
            self.buckets.hold(key, own.rate, retry_after if retry_after is not None else own.rate.interval)
        elif 400 <= status < 500 and own.refused_cost > 1:
            self.buckets.charge(key, own.rate, own.refused_cost - 1)
        if remaining is not None and remaining.isdigit():
            self.buckets.observe(key, own.rate, int(remaining))
