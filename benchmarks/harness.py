"""Pieces the benchmarks share: a sandbox in its own process, a private MariaDB server."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from inventory_pipeline_tests.servers import MariaDBServer, free_port

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
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/_sandbox/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise RuntimeError("sandbox did not start")
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
