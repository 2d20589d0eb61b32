"""Run the sandbox on a free loopback port inside the current process (tests, demo, benchmarks)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import requests
import uvicorn

from marketplace_sandbox.app import create_app
from marketplace_sandbox.core import Sandbox


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    """Block until the sandbox at ``url`` answers its health check."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/_sandbox/health", timeout=2).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"the sandbox at {url} did not answer within {timeout:g} s")


class SandboxServer:
    """``with SandboxServer(skus=50) as sb: sb.url`` — a real HTTP server on 127.0.0.1."""

    def __init__(
        self,
        skus: int = 200,
        seed: int = 1,
        faults: str = "",
        profile: str = "fast",
        port: int = 0,
        wix_in_sync: bool = False,
    ) -> None:
        self.app = create_app(skus=skus, seed=seed, faults=faults, profile=profile, wix_in_sync=wix_in_sync)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="critical", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def sandbox(self) -> Sandbox:
        return self.app.state.sandbox

    def start(self) -> SandboxServer:
        self._thread.start()
        wait_until_up(self.url, timeout=15)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def sandbox_process(
    skus: int = 200,
    seed: int = 1,
    profile: str = "fast",
    faults: str = "",
    timeout: float = 60.0,
    wix_in_sync: bool = False,
) -> Iterator[str]:
    """``python -m marketplace_sandbox`` in its own process on a free port; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
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
        *(["--faults", faults] if faults else []),
        *(["--wix-in-sync"] if wix_in_sync else []),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, timeout=timeout)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
