"""Haier open platform (巨商汇 / 易理货) client: client-credentials token, products, prices, stock.

The token is cached until shortly before it expires; a 401 on a business call re-authenticates once.
Secrets and the account codes arrive through ``EnvVar`` (the Haier Django sync's settings table).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from inventory_pipeline.resources.http import ApiAuthError, ApiError, ApiPayloadError, JsonApi, RetryPolicy

PRODUCTS_PATH = (
    "/yilihuo/jsh-service-goods-mall-search/api/product-info/procurable-products-out/check-procurable-products"
)
PRICES_PATH = "/yilihuo/jsh-service-goods-price/api/goods-price/price-daily-sales/price-query/pt-out-list-price"
STOCK_PATH = "/yilihuo/jsh-service-stock-mall/api/page/stock/get-available-stock-open"
MAX_CODES = 20
TOKEN_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class StockAnswer:
    product_code: str
    county_code: str
    data: object  # the API's answer, or None when the item failed
    error: str | None = None


def _data(payload: object) -> object:
    """Haier documents no envelope; accept a bare answer or ``{"code": "0", "data": ...}``."""
    if isinstance(payload, dict) and "data" in payload:
        if str(payload.get("code", "0")) not in {"0", "200"}:
            raise ApiPayloadError(f"Haier answered code {payload.get('code')}: {payload.get('message')}")
        return payload["data"]
    return payload


class HaierResource(ConfigurableResource):
    """One Haier customer account."""

    base_url: str = "https://openplat-bj-aliyun.haier.net"
    token_path: str = "/oauth2/auth"
    client_id: str
    client_secret: str
    customer_code: str
    send_to_code: str
    supplier_code: str
    password: str
    seller_password: str
    timeout_seconds: float = 30.0
    retries: int = 3
    retry_delay_seconds: float = 5.0
    stock_concurrency: int = 5

    _api: JsonApi | None = PrivateAttr(default=None)
    _token: str | None = PrivateAttr(default=None)
    _expires: float = PrivateAttr(default=0.0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _token_calls: int = PrivateAttr(default=0)

    @property
    def api(self) -> JsonApi:
        if self._api is None:
            self._api = JsonApi(
                "Haier",
                self.base_url,
                {"Content-Type": "application/json"},
                self.timeout_seconds,
                RetryPolicy(self.retries, self.retry_delay_seconds),
                "HAIER_CLIENT_ID / HAIER_CLIENT_SECRET (token) or the account codes and "
                "HAIER_PASSWORD / HAIER_SELLER_PASSWORD",
                url_hint="HAIER_API_URL",
            )
        return self._api

    @property
    def calls(self) -> int:
        return self._api.calls if self._api else 0

    @property
    def seconds_in_calls(self) -> float:
        return self._api.seconds if self._api else 0.0

    @property
    def token_calls(self) -> int:
        return self._token_calls

    def _fresh_token(self, force: bool = False, retry: bool = True) -> str:
        with self._lock:
            if force or not self._token or time.monotonic() >= self._expires:
                body = {
                    "client_id": self.client_id.strip(),
                    "client_secret": self.client_secret.strip(),
                    "grant_type": "client_credentials",
                }
                self._token_calls += 1
                payload = _data(self.api.call("POST", self.token_path, body=body, retry=retry))
                token = payload.get("access_token") or payload.get("token") if isinstance(payload, dict) else None
                if not token:
                    raise ApiPayloadError("Haier token answer has neither access_token nor token")
                ttl = float(payload.get("expires_in") or 3600)
                self._token = str(token)
                self._expires = time.monotonic() + max(1.0, ttl - min(TOKEN_MARGIN_SECONDS, ttl / 2))
            return self._token

    def _call(self, path: str, body: dict) -> object:
        """A business call with the cached token; one re-authentication on a 401 (token expired)."""
        for attempt in (1, 2):
            token = self._fresh_token(force=attempt == 2)
            try:
                return _data(self.api.call("POST", path, body=body, headers={"Authorization": f"Bearer {token}"}))
            except ApiAuthError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def products(self, codes: list[str] | None = None) -> Iterator[list]:
        """Procurable products, ≤ 20 codes per call; no codes asks for the whole catalogue."""
        account = {
            "customerCode": self.customer_code,
            "sendToCode": self.send_to_code,
            "supplierCode": self.supplier_code,
            "searchType": "PTJSH",
            "passWord": self.password,
        }
        for chunk in _chunks(codes) if codes else [[]]:
            data = self._call(PRODUCTS_PATH, {**account, "productCodes": chunk})
            yield data if isinstance(data, list) else [data]

    def prices(self, codes: list[str]) -> Iterator[list]:
        account = {
            "customerCode": self.customer_code,
            "sendToCode": self.send_to_code,
            "priceType": "PT",
            "passWord": self.password,
        }
        for chunk in _chunks(codes):
            data = self._call(PRICES_PATH, {**account, "productCodes": chunk})
            yield data if isinstance(data, list) else [data]

    def stock(self, pairs: list[tuple[str, str]]) -> list[StockAnswer]:
        """Available stock for (product, county) pairs, one call each, ``stock_concurrency`` at once.
        A failing item is returned with its error; the rest go on."""

        def one(pair: tuple[str, str]) -> StockAnswer:
            code, county = pair
            body = {
                "salesCode": self.customer_code,
                "senderCode": self.send_to_code,
                "productCode": code,
                "countyCode": county,
                "source": "JSH-B",
                "sellerPassword": self.seller_password,
            }
            try:
                return StockAnswer(code, county, self._call(STOCK_PATH, body))
            except ApiAuthError:
                raise
            except ApiError as exc:
                return StockAnswer(code, county, None, str(exc))

        self._fresh_token()
        with ThreadPoolExecutor(max(1, self.stock_concurrency)) as pool:
            return list(pool.map(one, pairs))

    def check_credentials(self) -> str:
        self._fresh_token(force=True, retry=False)
        return "Haier: token issued"


def _chunks(codes: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(codes), MAX_CODES):
        yield codes[start : start + MAX_CODES]
