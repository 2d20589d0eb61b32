"""The Ozon push receiver: a small ASGI app beside the Dagster webserver, behind the production
front. Each message is checked (source address, ``seller_id``), stored in ``stock_signals`` and only
then answered, so that nothing Ozon was told we have is lost; the fast path acts on it afterwards.

Ozon signs nothing: it publishes the networks it sends from (``OZON_PUSH_SOURCES``). Behind a proxy
(``OZON_PUSH_TRUSTED_PROXIES``) the client address is the one the proxy reports in ``X-Real-IP``.
A stored signal only makes the pipeline ask Ozon again: the figures in a message are never written.

Run: ``python -m inventory_pipeline.defs.signals.receiver --port 8081`` (``make receiver``).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.engine import make_engine
from inventory_pipeline.defs.signals import queue
from inventory_pipeline.defs.signals.messages import (
    ACKNOWLEDGED,
    MessageError,
    error_answer,
    ozon_signals,
    ping_answer,
)
from inventory_pipeline.settings import SettingsError, credential_var, database_url, load_settings

log = logging.getLogger("inventory_pipeline.receiver")
PATH = "/ozon/push"
VERSION = "1"
MAX_BODY = 1 << 20  # Ozon's messages are a few KB; anything near a megabyte is not one of them


@dataclass(frozen=True)
class Gate:
    """Who may deliver: the networks pushes come from, the proxies whose X-Real-IP is believed, and
    the seller ids of the configured Ozon accounts."""

    sources: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    sellers: dict[str, str]  # seller_id (Client-Id) -> account

    def client(self, peer: str | None, real_ip: str | None) -> str | None:
        if peer and real_ip and _within(peer, self.proxies):
            return real_ip.strip()
        return peer

    def allowed(self, address: str | None) -> bool:
        return bool(address) and _within(address, self.sources)


def _within(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def gate_from_settings() -> Gate:
    settings = load_settings()
    sellers = {}
    for account in settings.ozon_accounts:
        client_id = os.environ.get(credential_var("OZON_CLIENT_ID", account), "").strip()
        if client_id:
            sellers[client_id] = account
    if not sellers:
        raise SettingsError("the Ozon push receiver needs OZON_CLIENT_ID for at least one Ozon account")
    return Gate(settings.ozon_push_sources, settings.ozon_push_trusted_proxies, sellers)


def create_app(engine: Engine | None = None, gate: Gate | None = None) -> Starlette:
    engine = engine or make_engine(database_url())
    gate = gate or gate_from_settings()

    async def push(request: Request) -> JSONResponse:
        client = gate.client(request.client.host if request.client else None, request.headers.get("x-real-ip"))
        if not gate.allowed(client):
            log.warning("Ozon push refused: %s is not in OZON_PUSH_SOURCES", client)
            return JSONResponse(error_answer("ERROR_UNKNOWN", "source not allowed"), 403)
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse(error_answer("ERROR_UNKNOWN", "message too large"), 413)
        try:
            message = json.loads(raw)
        except ValueError:
            return JSONResponse(error_answer("ERROR_PARAMETER_VALUE_MISSED", "the body is not JSON"), 400)
        if not isinstance(message, dict):
            return JSONResponse(error_answer("ERROR_PARAMETER_VALUE_MISSED", "the body is not an object"), 400)
        if message.get("message_type") == "TYPE_PING":
            return JSONResponse(ping_answer(utcnow(), VERSION))
        account = gate.sellers.get(str(message.get("seller_id", "")))
        if account is None:
            log.warning("Ozon push refused: seller_id %r is no configured Ozon account", message.get("seller_id"))
            return JSONResponse(error_answer("ERROR_UNKNOWN", "unknown seller_id"), 403)
        try:
            signals = ozon_signals(message, account)
        except MessageError as exc:
            return JSONResponse(error_answer(exc.code, str(exc)), 400)
        if signals:
            try:
                await run_in_threadpool(queue.enqueue, engine, signals)
            except SQLAlchemyError as exc:
                # Not stored, so not acknowledged: Ozon delivers it again.
                log.error("Ozon push not stored (%s): answered 500 for Ozon to retry", type(exc).__name__)
                return JSONResponse(error_answer("ERROR_UNKNOWN", "not stored; retry"), 500)
        elif message.get("message_type") not in ACKNOWLEDGED:
            log.info("Ozon push %s acknowledged: it names no stock change", message.get("message_type"))
        return JSONResponse({"result": True})

    return Starlette(routes=[Route(PATH, push, methods=["POST"])])


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="The Ozon push receiver (POST /ozon/push).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("OZON_PUSH_PORT", "8081")))
    parser.add_argument("--uds", default=None, help="a Unix socket instead of host and port (behind the front)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    if args.uds:
        uvicorn.run(app, uds=args.uds, log_level="warning", access_log=False)
    else:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
