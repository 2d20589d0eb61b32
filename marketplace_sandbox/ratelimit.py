"""Token buckets, the way Wildberries describes its limits (period, limit, interval, burst)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    per_seconds: float  # one token is added every ``per_seconds``
    burst: int


class TokenBuckets:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._state: dict[tuple, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple, limit: Limit, cost: int = 1) -> tuple[bool, int, float]:
        """Take ``cost`` tokens. Returns (allowed, tokens left, seconds until one is free)."""
        now = self._clock()
        with self._lock:
            tokens, last = self._state.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - last) / limit.per_seconds)
            if tokens >= 1:
                tokens = max(0.0, tokens - cost)
                self._state[key] = (tokens, now)
                return True, int(tokens), 0.0
            self._state[key] = (tokens, now)
            return False, 0, (1 - tokens) * limit.per_seconds

    def reset_seconds(self, key: tuple, limit: Limit) -> int:
        tokens, _ = self._state.get(key, (float(limit.burst), 0.0))
        return math.ceil((limit.burst - tokens) * limit.per_seconds)

    def clear(self) -> None:
        with self._lock:
            self._state.clear()
