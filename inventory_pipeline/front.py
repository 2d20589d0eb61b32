"""The front of the Dagster UI on one machine: the production rules (``deploy/nginx/dagster-front.conf``:
every request authenticated, no mutation by GET, no write from a foreign page) in a private nginx
that ``make ui`` starts in front of its webserver. Dagster's webserver has none of these itself: a
web page the operator visits could otherwise start a Wix push through the local UI.

``python -m inventory_pipeline.front --port 3000 --upstream 127.0.0.1:3100 --workdir DIR`` writes its
configuration and password file under DIR and runs nginx in the foreground. The operator's name and
password come from UI_USER / UI_PASSWORD, or a password is made once and kept in DIR (mode 0600).
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import os
import secrets
import shutil
from pathlib import Path

from inventory_pipeline.settings import PROJECT_ROOT

FRONT_RULES = PROJECT_ROOT / "deploy" / "nginx" / "dagster-front.conf"
NGINX = "/usr/sbin/nginx"


def password_line(user: str, password: str) -> str:
    """An htpasswd line nginx reads: salted SHA-1 ({SSHA})."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return f"{user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n"


def credentials(workdir: Path) -> tuple[str, str]:
    """UI_USER / UI_PASSWORD, or ``operator`` with a password made on the first start and kept."""
    user = os.environ.get("UI_USER", "").strip() or "operator"
    password = os.environ.get("UI_PASSWORD", "")
    if password:
        return user, password
    kept = workdir / "ui-password"
    if not kept.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        kept.touch(mode=0o600)
        kept.write_text(secrets.token_urlsafe(18) + "\n")
    return user, kept.read_text().strip()


def write_config(workdir: Path, port: int, upstream: str, users: dict[str, str], reports: Path | None = None) -> Path:
    """nginx.conf (and its password file) under ``workdir`` for a front on 127.0.0.1:``port``."""
    workdir.mkdir(parents=True, exist_ok=True)
    htpasswd = workdir / "htpasswd"
    htpasswd.write_text("".join(password_line(u, p) for u, p in users.items()))
    htpasswd.chmod(0o600)
    temp = "".join(
        f"    {kind}_temp_path {workdir}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Report pictures (the weekly chart) are served beside the UI, so that its pages can show them.
    report_location = (
        f"""        location /reports/ {{
            auth_basic "inventory_pipeline";
            auth_basic_user_file {htpasswd};
            alias {reports.resolve()}/;
        }}
"""
        if reports
        else ""
    )
    config = workdir / "nginx.conf"
    config.write_text(
        f"""{"user root root;" if getpass.getuser() == "root" else ""}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{}}
http {{
    access_log off;
    types {{ image/png png; }}
{temp}    upstream dagster_webserver {{ server {upstream}; }}
    server {{
        listen 127.0.0.1:{port};
{report_location}        location / {{
            auth_basic "inventory_pipeline";
            auth_basic_user_file {htpasswd};
            include {FRONT_RULES};
        }}
    }}
}}
"""
    )
    return config


def nginx_command(config: Path) -> list[str]:
    binary = shutil.which("nginx") or NGINX
    return [binary, "-p", str(config.parent), "-c", str(config), "-g", "daemon off;"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The local front of the Dagster UI (nginx).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="host:port of the Dagster webserver")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--reports", type=Path)
    args = parser.parse_args(argv)
    user, password = credentials(args.workdir)
    config = write_config(args.workdir, args.port, args.upstream, {user: password}, args.reports)
    os.execv(nginx_command(config)[0], nginx_command(config))


if __name__ == "__main__":
    main()
