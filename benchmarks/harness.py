"""Pieces the benchmarks share: a sandbox in its own process, a private MariaDB server."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from inventory_pipeline_tests.servers import MariaDBServer, free_port
from marketplace_sandbox.server import wait_until_up

RESULTS = Path(__file__).resolve().parent / "results"


@contextlib.contextmanager
def sandbox_process(skus: int, profile: str = "fast", seed: int = 1) -> Iterator[str]:
    """The sandbox as a separate process, so that it does not share the GIL with the measured code."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "marketplace_sandbox",
            "--port",
            str(port),
            "--skus",
            str(skus),
            "--seed",
            str(seed),
            "--profile",
            profile,
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, timeout=900)  # a million-SKU world takes a while to build
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def mariadb() -> Iterator[MariaDBServer]:
    with tempfile.TemporaryDirectory() as folder:
        server = MariaDBServer(Path(folder)).start()
        try:
            yield server
        finally:
            server.stop()
