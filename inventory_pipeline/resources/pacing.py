"""Every client waits for its turn before it asks, so that a sync takes the calls it needs and
provokes no 429 (real Wildberries penalizes a token that keeps hitting its limits).

A token bucket per seller account and method group, as the marketplaces publish their limits
(per minute, with a burst), shared by every thread of the process: the snapshot writer, Haier's
county reads and both snapshots of one run draw from the same buckets. A 429 that still comes (the
account's limit was spent by another process) empties the bucket for as long as the server asks,
and Wildberries' ``X-Ratelimit-Remaining`` lowers it to what the server counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

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


class Buckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._state: dict[tuple, tuple[float, float]] = {}  # key -> (tokens, at); tokens < 0: callers queued

    def _tokens(self, key: tuple, rate: Rate, now: float) -> float:
        tokens, at = self._state.get(key, (float(rate.burst), now))
        return min(float(rate.burst), tokens + (now - at) / rate.interval)

    def take(self, key: tuple, rate: Rate, cost: int = 1) -> float:
        """Wait until ``cost`` tokens are this caller's; the seconds waited. Callers are served in
        the order they came: each reserves its token before it sleeps."""
        with self._lock:
            now = self._clock()
            tokens = self._tokens(key, rate, now) - cost
            self._state[key] = (tokens, now)
        wait = -tokens * rate.interval if tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def charge(self, key: tuple, rate: Rate, cost: int) -> None:
        """Spend ``cost`` more tokens without waiting (what a refused request cost beyond one)."""
        with self._lock:
            now = self._clock()
            self._state[key] = (self._tokens(key, rate, now) - cost, now)

    def hold(self, key: tuple, rate: Rate, seconds: float) -> None:
        """The server said nothing is free for ``seconds``: the next caller waits that long (at most
        ``MAX_HOLD_SECONDS``)."""
        seconds = min(max(0.0, seconds), MAX_HOLD_SECONDS)
        with self._lock:
            now = self._clock()
            self._state[key] = (min(self._tokens(key, rate, now), 1 - seconds / rate.interval - 1e-9), now)

    def observe(self, key: tuple, rate: Rate, remaining: int) -> None:
        """The server counts ``remaining`` calls left in its burst: never believe in more."""
        with self._lock:
            now = self._clock()
            self._state[key] = (min(self._tokens(key, rate, now), float(remaining)), now)


BUCKETS = Buckets()  # one set per process, whatever the number of resources and threads


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
