"""What every API of the sandbox shares: state, request counting, error bodies, faults."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketplace_sandbox.faults import FaultInjector
from marketplace_sandbox.live import Live
from marketplace_sandbox.ratelimit import Limit, TokenBuckets
from marketplace_sandbox.world import World


class Sandbox:
    """State shared by all routes: the world, faults, rate-limit buckets and call counts."""

    def __init__(self, world: World, faults: FaultInjector, profile: str = "real") -> None:
        if profile not in {"real", "fast"}:
            raise ValueError(f"profile must be 'real' or 'fast', got {profile!r}")
        self.world = world
        self.live = Live(world)  # real-time buyers and sellers, off until /_sandbox/live starts them
        self.faults = faults
        self.profile = profile
        self.buckets = TokenBuckets()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()  # answers 429 per bucket: what a well-paced client never sees
        self._calls_lock = threading.Lock()
        self.haier_token_ttl = 3600
        self.haier_tokens: dict[str, float] = {}

    def count(self, method: str, path: str) -> None:
        with self._calls_lock:
            self.calls[f"{method} {path}"] += 1

    def throttle(self, key: tuple, limit: Limit, cost: int = 1) -> tuple[bool, int, float]:
        if self.profile == "fast":
            return True, limit.burst, 0.0
        allowed, remaining, wait = self.buckets.take(key, limit, cost)
        if not allowed:
            with self._calls_lock:
                self.throttled["/".join(map(str, key))] += 1
        return allowed, remaining, wait


def channel_of(path: str) -> str:
    return path.split("/", 2)[1] if path.count("/") >= 1 else ""


def drop_nulls(value: object) -> object:
    """A request body as the real services read it: a field sent as ``null`` is a field not sent
    (protobuf JSON at Ozon and Wix, Go's decoder at Wildberries)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = "application/json"
) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers=headers, media_type=media_type)


def wb_problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(
        {
            "title": title,
            "detail": detail,
            "code": uuid.uuid4().hex[:20],
            "requestId": uuid.uuid4().hex,
            "origin": "s2s-api-auth-catalog",
            "status": status,
            "statusText": title.title(),
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        status,
        headers,
        media_type="application/problem+json",
    )


def ozon_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"code": code, "message": message, "details": []}, status, headers)


def wix_error(status: int, code: str, message: str) -> Response:
    return json_response(
        {"message": message, "details": {"applicationError": {"code": code, "description": message, "data": {}}}},
        status,
    )


def haier_error(status: int, message: str) -> Response:
    return json_response({"code": str(status), "message": message, "data": None}, status)


def fault_response(path: str, kind: str) -> Response:
    channel = channel_of(path)
    if kind == "429":
        if channel == "ozon":
            return ozon_error(
                429,
                8,
                "You have reached request rate limit per second",
                {"retry-after": "1", "ratelimit-remaining": "0"},
            )
        if channel == "wb":
            return wb_problem(
                429,
                "too many requests",
                "limited by sandbox fault injection",
                {"X-Ratelimit-Retry": "1", "X-Ratelimit-Limit": "10", "X-Ratelimit-Reset": "1"},
            )
        if channel == "wix":
            return wix_error(429, "RESOURCE_EXHAUSTED", "Too Many Requests")
        return haier_error(429, "请求过于频繁")
    status = int(kind)
    if channel == "ozon":
        return ozon_error(status, 13, "Internal error")
    if channel == "wb":
        return wb_problem(status, "internal server error", "try again later")
    if channel == "wix":
        return wix_error(status, "INTERNAL", "Internal error")
    return haier_error(status, "系统异常")


def request_fault(request: Request) -> str | None:
    """The fault the middleware left for the endpoint to act on (``empty``, ``truncate``, ``stuck``)."""
    return request.scope.get("sandbox_fault")


class FaultMiddleware:
    """Counts API calls and injects the faults the spec draws, before or after the handler."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        self.sandbox.count(scope["method"], path)
        kind = self.sandbox.faults.draw(path)
        if kind is None:
            await self.app(scope, receive, send)
        elif kind in {"429", "500", "502", "503"}:
            await fault_response(path, kind)(scope, receive, send)
        elif kind == "slow":
            await asyncio.sleep(self.sandbox.faults.slow_seconds)
            await self.app(scope, receive, send)
        elif kind in {"empty", "truncate", "stuck"}:
            scope["sandbox_fault"] = kind
            await self.app(scope, receive, send)
        else:
            await self._rewrite(scope, receive, send, kind)

    async def _rewrite(self, scope: Scope, receive: Receive, send: Send, kind: str) -> None:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if kind == "500after":
            await fault_response(scope["path"], "500")(scope, receive, send)
            return
        if kind == "slowafter":
            await asyncio.sleep(self.sandbox.faults.slow_seconds)
            for message in messages:
                await send(message)
            return
        if kind == "malformed":
            broken = body[: max(1, len(body) // 2)] or b"{"
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(broken)).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": broken})
            return
        # drop: promise the whole body, send half of it and hang up.
        await send(start)
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        raise ConnectionAbortedError("sandbox fault: connection dropped mid-body")
