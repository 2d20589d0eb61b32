"""The front of the Dagster UI on one machine: the production rules (``deploy/nginx/dagster-front.conf``:
every request authenticated, no mutation by GET, no write from a foreign page) in a private nginx
that ``make ui`` starts in front of its webserver. Dagster's webserver has none of these itself: a
web page the operator visits could otherwise start a Wix push through the local UI.

``python -m inventory_pipeline.front --port 3000 --upstream unix:DIR/webserver.sock --workdir DIR``
writes its configuration and password file under DIR and runs nginx in the foreground. The operator's
name and password come from UI_USER / UI_PASSWORD, or a password is made once and kept in DIR (0600).

``python -m inventory_pipeline.front --webserver-socket DIR/webserver.sock -- <dagster-webserver
options>`` runs Dagster's webserver on that Unix socket instead of a TCP port: no web page can reach
a socket file, and in a folder of mode 0700 no other local user can open it: the front is the only way in.
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


def serve_webserver(socket: Path, webserver_args: list[str]) -> None:
    """Dagster's webserver CLI, with uvicorn told to listen on ``socket``. The CLI offers only a TCP
    port, so its one call to ``uvicorn.run`` is pointed at the socket here, in this process alone."""
    import uvicorn
    from dagster_webserver import cli

    run = uvicorn.run

    def on_socket(app, host=None, port=None, **options) -> None:
        socket.unlink(missing_ok=True)
        socket.parent.mkdir(parents=True, exist_ok=True)
        socket.parent.chmod(0o700)  # uvicorn makes the socket itself 0666: its folder keeps others out
        run(app, uds=str(socket), **options)

    uvicorn.run = on_socket
    cli.cli.main(args=webserver_args, prog_name="dagster-webserver")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The local front of the Dagster UI (nginx).")
    parser.add_argument("--webserver-socket", type=Path, help="run Dagster's webserver on this Unix socket")
    parser.add_argument("--port", type=int)
    parser.add_argument("--upstream", help="the Dagster webserver: host:port or unix:/path")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--reports", type=Path, help="served under /reports/ (default: REPORT_DIR)")
    args, rest = parser.parse_known_args(argv)
    if args.webserver_socket:
        serve_webserver(args.webserver_socket, [a for a in rest if a != "--"])
        return
    if not (args.port and args.upstream and args.workdir):
        parser.error("--port, --upstream and --workdir are needed to run the front")
    from inventory_pipeline.settings import load_settings

    reports = args.reports or Path(load_settings().report_dir)
    user, password = credentials(args.workdir)
    config = write_config(args.workdir, args.port, args.upstream, {user: password}, reports)
    source = "UI_PASSWORD" if os.environ.get("UI_PASSWORD") else f"the line in {args.workdir / 'ui-password'}"
    print(f"Dagster UI: http://127.0.0.1:{args.port}   user {user}, password: {source}", flush=True)
    os.execv(nginx_command(config)[0], nginx_command(config))


if __name__ == "__main__":
    main()
