"""Retry timing, hint parsing and settings: pure pieces of the HTTP mechanism and configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from requests.structures import CaseInsensitiveDict

from inventory_pipeline.redact import redact_urls
from inventory_pipeline.resources.http import MAX_WAIT_SECONDS, ApiPayloadError, RetryPolicy, _Transient, retry_hint
from inventory_pipeline.resources.ozon import _is_auth_failure
from inventory_pipeline.resources.pages import json_array_batches
from inventory_pipeline.settings import SettingsError, credential_var, load_settings


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "1"}, 1.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"X-Ratelimit-Retry": "20"}, 20.0),
        ({"x-ratelimit-retry": "3"}, 3.0),
        ({}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, 30.0),  # HTTP allows a date as well
        ({"Retry-After": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),  # a date gone by: at once
        ({"Retry-After": "soon"}, None),
    ],
)
def test_retry_hint(headers, expected):
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_hint(CaseInsensitiveDict(headers), now) == expected


def state(attempt: int, error: Exception):
    return SimpleNamespace(attempt_number=attempt, outcome=SimpleNamespace(exception=lambda: error))


def test_wait_obeys_the_server_hint_with_a_little_jitter():
    policy = RetryPolicy(retries=3, delay=5)
    waits = [policy.wait(state(1, _Transient("429", retry_after=20))) for _ in range(50)]
    assert all(20 <= w <= 22 for w in waits) and len(set(waits)) > 1


def test_wait_backs_off_exponentially_without_a_hint():
    policy = RetryPolicy(retries=3, delay=5)
    assert 5 <= policy.wait(state(1, _Transient("500"))) <= 5.5
    assert 10 <= policy.wait(state(2, _Transient("500"))) <= 11
    assert 20 <= policy.wait(state(3, _Transient("500"))) <= 22
    assert policy.wait(state(12, _Transient("500"))) <= MAX_WAIT_SECONDS * 1.1


@pytest.mark.parametrize(
    ("status", "body", "auth"),
    [
        (401, b'{"code":16}', True),
        (404, b'{"code":5,"message":"Invalid Api-Key"}', True),
        (404, b'{"code":12,"message":"Method is disabled"}', False),
        (400, b'{"code":3,"message":"Client-Id header value should be positive integer"}', True),
        (400, b'{"code":3,"message":"invalid limit"}', False),
        (500, b"", False),
        (404, b"<html>", False),
    ],
)
def test_ozon_auth_failures(status, body, auth):
    assert _is_auth_failure(status, body) is auth


def test_credential_variables():
    assert credential_var("OZON_API_KEY", "main") == "OZON_API_KEY"
    assert credential_var("WB_API_KEY", "second") == "WB_API_KEY_SECOND"


def test_settings_defaults_and_errors(monkeypatch):
    for name in ("SELLER_ACCOUNTS", "OZON_ACCOUNTS", "WB_ACCOUNTS", "MIN_PRODUCTS_THRESHOLD", "MAX_SNAPSHOT_DROP"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.accounts == ["main"] and settings.min_products_threshold == 10
    assert settings.max_sync_age_hours == 8 and settings.timezone == "Europe/Moscow"
    monkeypatch.setenv("SELLER_ACCOUNTS", "second,main")
    monkeypatch.setenv("WB_ACCOUNTS", "main")
    settings = load_settings()
    assert settings.accounts == ["main", "second"] and settings.wb_accounts == ["main"]
    monkeypatch.setenv("MIN_PRODUCTS_THRESHOLD", "ten")
    with pytest.raises(SettingsError, match="MIN_PRODUCTS_THRESHOLD"):
        load_settings()
    monkeypatch.setenv("MIN_PRODUCTS_THRESHOLD", "10")
    monkeypatch.setenv("SELLER_ACCOUNTS", "Main Shop")
    with pytest.raises(SettingsError, match="SELLER_ACCOUNTS"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WIX_SAFETY_BUFFER", "-2"),
        ("WIX_MAX_QUANTITY", "-1"),
        ("WIX_SKU_BUFFERS", "A-1=-3"),
        ("MIN_PRODUCTS_THRESHOLD", "-5"),
        ("FBO_THRESHOLD", "-1"),
        ("WIX_MAX_ZERO_SHARE", "-0.1"),
    ],
)
def test_negative_quantities_are_refused_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WIX_MAX_ZERO_SHARE", "25"),  # meant as 25 %: would let a plan zero every SKU
        ("WIX_MAX_ZERO_SHARE", "7"),
        ("WIX_MAX_ZERO_SHARE", "1"),
        ("WIX_MAX_TOTAL_CHANGE", "50"),
        ("MAX_SNAPSHOT_DROP", "0"),
        ("MAX_PART_DROP", "1.5"),
        ("WIX_STOCK_TYPES", "fbss"),  # would make every target 0
        ("WIX_STOCK_TYPES", "fbs,rbfs"),
        ("SALES_WINDOW_DAYS", "0"),  # crashed the events run (a division by zero)
        ("ANALYSIS_PERIOD_DAYS", "0"),
        ("SNAPSHOT_RETENTION_DAYS", "0"),
        ("MAX_SYNC_AGE_HOURS", "0"),
    ],
)
def test_a_setting_that_would_switch_a_guard_off_or_crash_a_run_is_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_guards_at_their_strictest_are_allowed(monkeypatch):
    monkeypatch.setenv("WIX_MAX_ZERO_SHARE", "0")
    monkeypatch.setenv("WIX_STOCK_TYPES", "fbs,rfbs,supplier")
    settings = load_settings()
    assert settings.wix_max_zero_share == 0 and settings.wix_stock_types == ("fbs", "rfbs", "supplier")


def test_zero_buffer_and_cap_are_allowed(monkeypatch):
    monkeypatch.setenv("WIX_SAFETY_BUFFER", "0")
    monkeypatch.setenv("WIX_MAX_QUANTITY", "0")
    settings = load_settings()
    assert settings.wix_buffer == 0 and settings.wix_cap == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "webhook: ConnectionError: HTTPConnectionPool(host='h', port=1): Max retries exceeded with url: "
            "http://127.0.0.1:9/hook/T0K3N-secret?key=abc (Caused by ...)",
            "webhook: ConnectionError: HTTPConnectionPool(host='h', port=1): Max retries exceeded with url: "
            "http://127.0.0.1:9/… (Caused by ...)",
        ),
        ("see https://user:pa55@hooks.example/services/XYZ", "see https://hooks.example/…"),
        ("no url here", "no url here"),
    ],
)
def test_urls_lose_their_secrets(text, expected):
    assert redact_urls(text) == expected
    assert "T0K3N" not in redact_urls(text) and "pa55" not in redact_urls(text)


def test_paths_quoted_by_urllib3_lose_their_secrets():
    text = "Max retries exceeded with url: /services/T0K3N?sig=x (Caused by NewConnectionError)"
    assert redact_urls(text) == "Max retries exceeded with url: /… (Caused by NewConnectionError)"


def test_a_json_array_is_read_in_batches_and_a_broken_one_is_named():
    body = b'[{"a": 1}, {"a": 2.5}, {"a": "x"}, {"a": [1]}, {"a": null}]'
    assert [len(b) for b in json_array_batches(body, "the report", size=2)] == [2, 2, 1]
    assert next(json_array_batches(body, "the report"))[:2] == [{"a": 1}, {"a": 2.5}]  # no Decimal
    with pytest.raises(ApiPayloadError, match="the report is not a readable JSON array"):
        list(json_array_batches(b'[{"a": 1}, {"a": ', "the report"))


@pytest.mark.parametrize(("value", "expected"), [("", True), ("true", True), ("No", False), ("0", False)])
def test_flags(monkeypatch, value, expected):
    monkeypatch.setenv("WB_FBW_BY_WAREHOUSE", value)
    assert load_settings().wb_fbw_by_warehouse is expected


def test_a_flag_that_is_neither_is_refused(monkeypatch):
    monkeypatch.setenv("WB_FBW_BY_WAREHOUSE", "maybe")
    with pytest.raises(SettingsError, match="WB_FBW_BY_WAREHOUSE must be true or false"):
        load_settings()


def test_connections_and_channels_are_read_once_with_the_settings(monkeypatch):
    for name in (
        "SMTP_HOST",
        "ALERT_EMAIL",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_CHAT_ID",
        "NOTIFY_WEBHOOK_URL",
        "OZON_API_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.connections.urls["OZON_API_URL"] == "https://api-seller.ozon.ru"
    assert not settings.channels.any
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "t")
    assert not load_settings().channels.any  # a token without a chat is no channel
    monkeypatch.setenv("TELEGRAM_CHAT_ID", "42")
    monkeypatch.setenv("OZON_API_URL", "http://127.0.0.1:1/ozon")
    settings = load_settings()
    assert settings.channels.any and settings.channels.telegram_token_set
    assert settings.connections.urls["OZON_API_URL"] == "http://127.0.0.1:1/ozon"
    monkeypatch.setenv("SMTP_STARTTLS", "perhaps")
    with pytest.raises(SettingsError, match="SMTP_STARTTLS must be true or false"):
        load_settings()
