"""Real servers for the tests: a private MariaDB instance in a temporary folder."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymysql


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if os.path.exists(name) else None)
        if found:
            return found
    return None


class MariaDBServer:
    """``mariadbd`` on a free loopback port with its own data folder; gone when stopped."""

    def __init__(self, root: Path, buffer_pool: str = "512M", grants: bool = False) -> None:
        self.root = root
        self.buffer_pool = buffer_pool  # InnoDB's page cache: the benchmarks size it to their data
        self.grants = grants  # privileges enforced, as on a production server (the suite's own skips them)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> MariaDBServer:
        server = _find("mariadbd", "/usr/sbin/mariadbd", "/usr/sbin/mysqld")
        install = _find("mariadb-install-db", "/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db")
        if not server or not install:
            raise RuntimeError(
                "the MariaDB server is not installed: `make test` installs Debian's mariadb-server (make mariadb)"
            )
        data = self.root / "data"
        user = ["--user=" + getpass.getuser()]
        subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *user,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        tmp = self.root / "tmp"
        tmp.mkdir(exist_ok=True)
        log = open(self.root / "mariadb.log", "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                server,
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={self.root / 'mysqld.sock'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                *([] if self.grants else ["--skip-grant-tables"]),
                "--skip-name-resolve",
                "--local-infile=1",
                f"--innodb-buffer-pool-size={self.buffer_pool}",
                "--innodb-log-file-size=256M",
                "--innodb-flush-log-at-trx-commit=2",
                "--max-allowed-packet=256M",
                "--skip-log-bin",
                f"--pid-file={self.root / 'mysqld.pid'}",
                # Its own temporary folder: a large GROUP BY's on-disk table must not share /tmp with
                # whatever else cleans it (a million-SKU benchmark lost one that way).
                f"--tmpdir={tmp}",
                *user,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {(self.root / 'mariadb.log').read_text()[-2000:]}")
            try:
                if self.grants:
                    self._admit_root_over_tcp()
                pymysql.connect(host="127.0.0.1", port=self.port, user="root").close()
                return self
            except pymysql.err.OperationalError:
                time.sleep(0.2)
        raise RuntimeError("mariadbd did not accept connections within 60 s")

    def _admit_root_over_tcp(self) -> None:
        """With privileges enforced, root may only come in through the socket: let it in over TCP too."""
        admin = pymysql.connect(unix_socket=str(self.root / "mysqld.sock"), user="root")
        with admin.cursor() as cursor:
            cursor.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'")
            cursor.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
        admin.close()

    def create_user(self, name: str, password: str, database: str, privileges: tuple[str, ...]) -> str:
        """A user with exactly ``privileges`` on ``database``; its INVENTORY_DB_URL."""
        connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY %s", (password,))  # test-chosen names
            cursor.execute(f"GRANT {', '.join(privileges)} ON `{database}`.* TO '{name}'@'127.0.0.1'")
        connection.close()
        return f"mysql+pymysql://{name}:{password}@127.0.0.1:{self.port}/{database}?charset=utf8mb4&local_infile=1"

    def dagster_storage_env(self, name: str) -> dict[str, str]:
        """A new database for Dagster's own storage, and the variables deploy/dagster.yaml reads."""
        connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")  # name is test-chosen
        connection.close()
        return {
            "DAGSTER_MYSQL_USER": "root",
            "DAGSTER_MYSQL_PASSWORD": "",
            "DAGSTER_MYSQL_HOST": "127.0.0.1",
            "DAGSTER_MYSQL_PORT": str(self.port),
            "DAGSTER_MYSQL_DB": name,
        }

    def create_database(self, name: str, charset: str = "utf8mb4") -> str:
        connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET {charset}")  # name and charset are the test's
        connection.close()
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{name}?charset=utf8mb4&local_infile=1"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def stop_group(process: subprocess.Popen, timeout: float = 60) -> None:
    """Stop a process started with ``start_new_session`` and everything it started."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def wait_for_http(url: str, timeout: float = 180.0) -> None:
    """Until ``url`` answers 2xx (a webserver starting up), or fail after ``timeout`` seconds."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


@contextlib.contextmanager
def dagster_process(command: str, *args: str, env: dict[str, str], cwd: Path):
    """A Dagster server (``dagster-webserver``, ``dagster dev``) on a free port, answering; yields its URL."""
    port = free_port()
    executable = str(Path(sys.executable).with_name(command))
    process = subprocess.Popen(
        [executable, *args, "-w", str(cwd / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=cwd,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/server_info")
        yield url
    finally:
        stop_group(process)


@contextlib.contextmanager
def nginx_front(upstream: str, users: dict[str, str], workdir: Path, reports: Path | None = None):
    """The front ``make ui`` runs (``inventory_pipeline/front.py``: the production rules of
    ``deploy/nginx/dagster-front.conf``) in a private nginx on a free port, with ``users`` allowed in;
    yields its URL."""
    from inventory_pipeline import front

    port = free_port()
    config = front.write_config(workdir, port, upstream.removeprefix("http://"), users, reports)
    process = subprocess.Popen(
        front.nginx_command(config), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"nginx did not start: {process.stderr.read().decode()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.2)
        yield url
    finally:
        stop_group(process)
