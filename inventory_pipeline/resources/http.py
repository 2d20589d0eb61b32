"""One HTTP mechanism for every marketplace client: retries with backoff that obey the server's
own hints, clear errors, and nothing secret in any message."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import orjson
import requests
from dagster import get_dagster_logger
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from inventory_pipeline.resources.pacing import Pacer

# Inside a run this logger writes to the run's event log: a step that waits out rate limits says why.
log = get_dagster_logger("inventory_pipeline.http")

RETRY_STATUSES = {429, 500, 502, 503, 504}
HINT_HEADERS = ("Retry-After", "X-Ratelimit-Retry")
MAX_WAIT_SECONDS = 120.0


class ApiError(Exception):
    """Base of every error a marketplace client raises."""


class ApiAuthError(ApiError):
    """The API refused the credentials: retrying will not help, fixing a setting will."""


class ApiRequestError(ApiError):
    """The API refused the request itself (4xx other than auth/rate limit)."""


class ApiUnavailableError(ApiError):
    """Still failing after every retry: 429, 5xx, timeouts, dropped connections."""


class ApiPayloadError(ApiError):
    """The API answered 200 with a body we cannot use."""


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None, unreachable: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = unreachable  # no answer at all: the address may be what is wrong


def retry_hint(headers: requests.structures.CaseInsensitiveDict, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``/``retry-after``, ``X-Ratelimit-Retry``):
    a number of seconds, or, as HTTP allows for ``Retry-After``, a date."""
    for name in HINT_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return None


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    delay: float = 5.0

    def wait(self, state: RetryCallState) -> float:
        """The server's hint when it gave one, else exponential backoff; jitter either way."""
        error = state.outcome.exception() if state.outcome else None
        hint = getattr(error, "retry_after", None)
        base = min(MAX_WAIT_SECONDS, hint if hint is not None else self.delay * 2 ** (state.attempt_number - 1))
        return base + random.uniform(0, max(0.05, 0.1 * base))


class JsonApi:
    """A ``requests`` session bound to one API host. ``auth_hint`` names what to fix on 401/403,
    ``url_hint`` the setting that holds ``base_url`` (named when the host does not answer)."""

    def __init__(
        self,
        api: str,
        base_url: str,
        headers: dict[str, str],
        timeout: float,
        policy: RetryPolicy,
        auth_hint: str,
        auth_failure: Callable[[int, bytes], bool] | None = None,
        url_hint: str = "",
        pacer: Pacer | None = None,
    ) -> None:
        self.api = api
        self.pacer = pacer
        self.url_hint = url_hint
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.policy = policy
        self.auth_hint = auth_hint
        self.auth_failure = auth_failure or (lambda status, _content: status in {401, 403})
        self.session = requests.Session()
        self.session.headers.update(headers)
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.calls = 0
        self.seconds = 0.0

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict | None = None,
        retry: bool = True,
        with_body: bool = False,
        headers: dict[str, str] | None = None,
        into: BinaryIO | None = None,
    ) -> Any:
        """Send one request and return its JSON (with the raw body too when ``with_body``); with
        ``into``, write the body there as it arrives instead (a document too large to hold) and
        return None. ``retry=False`` for writes that must never be sent twice."""
        attempts = self.policy.retries + 1 if retry else 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self.policy.wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
            before_sleep=lambda s: log.warning(
                "%s %s %s: %s; waiting %.1f s before retry %d of %d",
                self.api,
                method,
                path,
                s.outcome.exception(),
                s.next_action.sleep if s.next_action else 0.0,
                s.attempt_number,
                attempts - 1,
            ),
        )
        try:
            for attempt in retrying:
                with attempt:
                    content = self._once(method, path, body, params, headers, into)
                    return None if into is not None else _parsed(content, with_body)
        except _Transient as exc:
            tries = f"after {attempts} attempts" if attempts > 1 else "(not retried)"
            where = ""
            if exc.unreachable:
                host = urlsplit(self.base_url).netloc or self.base_url
                setting = f"{self.url_hint}={self.base_url}" if self.url_hint else self.base_url
                where = f"; {host} did not answer: check {setting} and the network"
            raise ApiUnavailableError(f"{self.api} {method} {path} failed {tries}: {exc}{where}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self,
        method: str,
        path: str,
        body: Any,
        params: dict | None,
        headers: dict[str, str] | None,
        into: BinaryIO | None = None,
    ) -> bytes:
        if self.pacer:
            waited = self.pacer.before(method, path)
            if waited > 5:
                log.info("%s %s %s waited %.0f s for its turn under the rate limits", self.api, method, path, waited)
        self.calls += 1
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=body,
                params=params,
                timeout=self.timeout,
                headers=headers,
                stream=into is not None,
            )
            if into is not None and response.status_code < 300:
                into.seek(0)
                into.truncate()
                for block in response.iter_content(1 << 20):  # a connection dropped mid-body raises here
                    into.write(block)
                into.seek(0)
                content = b""
            else:
                content = response.content  # a connection dropped mid-body raises here
        except requests.Timeout:
            self.seconds += time.monotonic() - started
            raise _Transient(f"no answer within {self.timeout:g} s", unreachable=True) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transient(f"connection failed: {type(exc).__name__}", unreachable=True) from None
        self.seconds += time.monotonic() - started
        status = response.status_code
        hint = retry_hint(response.headers) if status in RETRY_STATUSES else None
        if self.pacer:
            self.pacer.after(method, path, status, response.headers.get("X-Ratelimit-Remaining"), hint)
        if self.auth_failure(status, content):
            raise ApiAuthError(
                f"{self.api} refused the credentials (HTTP {status}: {_short(content)}). Fix {self.auth_hint}."
            )
        if status in RETRY_STATUSES:
            raise _Transient(f"HTTP {status}: {_short(content)}", hint)
        if status >= 400:
            raise ApiRequestError(f"{self.api} {method} {path} was refused: HTTP {status}: {_short(content)}")
        return b"" if status == 204 else content


def _parsed(content: bytes, with_body: bool) -> Any:
    if not content:
        return (None, content) if with_body else None
    try:
        payload = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise _Transient(f"malformed JSON in an answer of {len(content)} bytes") from None
    return (payload, content) if with_body else payload


def _short(content: bytes, limit: int = 200) -> str:
    text = content.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[:limit] + "…"


def expect(payload: Any, kind: type, what: str, api: str) -> Any:
    """Fail clearly when a payload does not have the shape the API documents."""
    if not isinstance(payload, kind):
        raise ApiPayloadError(f"{api}: expected {what} to be {kind.__name__}, got {type(payload).__name__}")
    return payload
