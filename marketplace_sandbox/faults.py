"""Seeded fault injection: which request fails, and how.

A spec is a comma-separated list of rules, ``KIND[=RATE][@PATH][+AFTER][*TIMES]``:

* ``KIND``: ``429``, ``500``, ``502``, ``503``, ``slow``, ``drop``, ``malformed``, ``truncate``,
  ``empty``, ``500after`` (the request is applied, then answered with a 500), ``slowafter`` (the
  request is applied, then answered late: past a client's timeout), ``stuck`` (a paged read answers
  with the cursor it was sent: a server that would have a client page forever).
* ``RATE``: probability per matching request (default 1).
* ``PATH``: only requests whose path starts with it (default: every API path).
* ``AFTER``: let this many matching requests through first.
* ``TIMES``: fire at most this many times.

``500=0.05,429=0.1`` fails 5 % / 10 % of all calls; ``500@/ozon/v4/product/info/stocks+2*1``
fails the third Ozon stock page once.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass

KINDS = {
    "429",
    "500",
    "502",
    "503",
    "slow",
    "slowafter",
    "drop",
    "malformed",
    "truncate",
    "empty",
    "500after",
    "stuck",
}
_RULE = re.compile(
    r"^(?P<kind>[a-z0-9]+)(=(?P<rate>[0-9.]+))?(@(?P<path>[^+*]+))?(\+(?P<after>\d+))?(\*(?P<times>\d+))?$"
)


@dataclass
class FaultRule:
    kind: str
    rate: float = 1.0
    path: str = ""
    after: int = 0
    times: int | None = None
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if not 0 <= self.rate <= 1:
            raise ValueError(f"fault rate must be within 0..1, got {self.rate}")


def parse_spec(spec: str) -> list[FaultRule]:
    rules = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = _RULE.match(part)
        if not match:
            raise ValueError(f"bad fault rule {part!r}; expected KIND[=RATE][@PATH][+AFTER][*TIMES]")
        rules.append(
            FaultRule(
                kind=match["kind"],
                rate=float(match["rate"] or 1),
                path=match["path"] or "",
                after=int(match["after"] or 0),
                times=int(match["times"]) if match["times"] else None,
            )
        )
    return rules


class FaultInjector:
    """Draws faults from a seeded generator so that a sequential run replays exactly."""

    def __init__(self, seed: int = 1, rules: list[FaultRule] | None = None, slow_seconds: float = 3.0) -> None:
        self._rng = random.Random(f"faults-{seed}")
        self._lock = threading.Lock()
        self.rules = rules or []
        self.slow_seconds = slow_seconds

    def set(self, rules: list[FaultRule], slow_seconds: float | None = None) -> None:
        with self._lock:
            self.rules = rules
            if slow_seconds is not None:
                self.slow_seconds = slow_seconds

    def draw(self, path: str) -> str | None:
        with self._lock:
            for rule in self.rules:
                if rule.path and not path.startswith(rule.path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after or (rule.times is not None and rule.fired >= rule.times):
                    continue
                if rule.rate >= 1 or self._rng.random() < rule.rate:
                    rule.fired += 1
                    return rule.kind
            return None

    def describe(self) -> list[dict]:
        with self._lock:
            return [asdict(r) for r in self.rules]
