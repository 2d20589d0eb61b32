"""Pieces the benchmarks share: a sandbox in its own process, a private MariaDB server."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from inventory_pipeline_tests.support.servers import MariaDBServer
from marketplace_sandbox.server import sandbox_process as _sandbox_process

RESULTS = Path(__file__).resolve().parent / "results"


def sandbox_process(skus: int, profile: str = "fast", seed: int = 1, wix_in_sync: bool = False):
    """The sandbox as a separate process, so that it does not share the GIL with the measured code;
    a million-SKU world takes a while to build."""
    return _sandbox_process(skus=skus, seed=seed, profile=profile, timeout=900, wix_in_sync=wix_in_sync)


@contextlib.contextmanager
def mariadb(buffer_pool: str = "512M") -> Iterator[MariaDBServer]:
    with tempfile.TemporaryDirectory() as folder:
        server = MariaDBServer(Path(folder), buffer_pool).start()
        try:
            yield server
        finally:
            server.stop()
