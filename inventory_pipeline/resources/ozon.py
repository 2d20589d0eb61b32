"""Ozon Seller API client for one seller account."""

from __future__ import annotations

import json
from collections.abc import Iterator

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from inventory_pipeline.resources.http import JsonApi, RetryPolicy, expect
from inventory_pipeline.resources.pacing import Bucket, Pacer, Rate, shared_buckets
from inventory_pipeline.resources.pages import RawPage, unseen

STOCKS_PATH = "/v4/product/info/stocks"
MAX_PAGE = 1000


# Ozon's published limits per Client-Id: 50 requests a second over all methods, and some methods
# their own per minute as well.
EVERY_METHOD = Bucket("all", Rate(50 * 60, 50))
PER_METHOD = {
    "/v2/warehouse/list": Bucket("warehouse-list", Rate(1, 1)),
    "/v2/products/stocks": Bucket("stock-update", Rate(80, 80)),
}


def limits(_method: str, path: str) -> tuple[Bucket, ...]:
    """The buckets an Ozon request counts against."""
    return (EVERY_METHOD, PER_METHOD[path]) if path in PER_METHOD else (EVERY_METHOD,)


def _is_auth_failure(status: int, content: bytes) -> bool:
    # Ozon answers a wrong Api-Key with 404 code 5 and a non-numeric Client-Id with 400 code 3.
    if status in {401, 403}:
        return True
    if status in {400, 404}:
        try:
            body = json.loads(content)
        except ValueError:
            return False
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        return (status == 404 and body.get("code") == 5) or (status == 400 and "Client-Id" in message)
    return False


class OzonSellerResource(ConfigurableResource):
    """Ozon Seller API (``api-seller.ozon.ru``) for one account; secrets arrive through ``EnvVar``."""

    account: str = "main"
    base_url: str = "https://api-seller.ozon.ru"
    client_id: str
    api_key: str
    client_id_var: str = "OZON_CLIENT_ID"
    api_key_var: str = "OZON_API_KEY"
    timeout_seconds: float = 30.0
    retries: int = 3
    retry_delay_seconds: float = 5.0
    page_size: int = MAX_PAGE
    paced: bool = True
    """Wait for a turn under Ozon's published limits (MARKETPLACE_PACING)."""
    pacing_store: str = ""
    """The inventory database's URL: where the account's buckets are shared with every other process
    of the instance (empty: this process's own)."""

    _api: JsonApi | None = PrivateAttr(default=None)

    @property
    def api(self) -> JsonApi:
        if self._api is None:
            headers = {
                "Client-Id": self.client_id.strip(),
                "Api-Key": self.api_key.strip(),
                "Content-Type": "application/json",
            }
            self._api = JsonApi(
                "Ozon",
                self.base_url,
                headers,
                self.timeout_seconds,
                RetryPolicy(self.retries, self.retry_delay_seconds),
                f"{self.api_key_var} / {self.client_id_var} (Ozon account '{self.account}')",
                _is_auth_failure,
                url_hint="OZON_API_URL",
                pacer=Pacer(("ozon", self.client_id.strip()), limits, shared_buckets(self.pacing_store))
                if self.paced
                else None,
            )
        return self._api

    @property
    def calls(self) -> int:
        return self._api.calls if self._api else 0

    def stock_pages(
        self, offer_ids: list[str] | None = None, product_ids: list[str] | None = None
    ) -> Iterator[RawPage]:
        """Every page of ``/v4/product/info/stocks`` (FBO, FBS and rFBS rows per product); only the
        products named, when ``offer_ids``/``product_ids`` are given (at most 1000 of them in all)."""
        cursor, seen = "", set()
        limit = max(1, min(self.page_size, MAX_PAGE))
        flt: dict = {"visibility": "ALL"}
        if offer_ids or product_ids:
            if len(offer_ids or ()) + len(product_ids or ()) > MAX_PAGE:
                raise ValueError(f"Ozon reads at most {MAX_PAGE} named products at once")
            flt |= {"offer_id": list(offer_ids or []), "product_id": [int(p) for p in product_ids or []]}
        while True:
            body = {"cursor": cursor, "filter": flt, "limit": limit}
            payload, raw = self.api.call("POST", STOCKS_PATH, body=body, with_body=True)
            expect(payload, dict, "the stocks answer", "Ozon")
            expect(payload.get("items"), list, "items", "Ozon")
            yield RawPage("stocks", raw, payload)
            cursor = payload.get("cursor") or ""
            if not cursor or not payload["items"]:
                return
            unseen(seen, cursor, f"Ozon {STOCKS_PATH}")

    def postings(self, scheme: str, since: str, to: str) -> Iterator[dict]:
        """FBO (``/v3/posting/fbo/list``) or FBS (``/v4/posting/fbs/list``) postings created in [since, to]."""
        path, limit = ("/v3/posting/fbo/list", 1000) if scheme == "fbo" else ("/v4/posting/fbs/list", 100)
        cursor, seen = "", set()
        while True:
            body = {
                "cursor": cursor,
                "filter": {"since": since, "to": to},
                "limit": limit,
                "sort_dir": "ASC",
                "with": {"financial_data": True},
            }
            payload = expect(self.api.call("POST", path, body=body), dict, "the postings answer", "Ozon")
            yield from expect(payload.get("postings"), list, "postings", "Ozon")
            cursor = payload.get("cursor") or ""
            if not payload.get("has_next") or not cursor:
                return
            unseen(seen, cursor, f"Ozon {path}")

    def unfulfilled_postings(self, since: str, to: str) -> Iterator[dict]:
        """FBS postings awaiting packaging, created in [since, to] (``/v3/posting/fbs/unfulfilled/list``):
        what a late new-posting push would have named."""
        offset = 0
        while True:
            body = {"dir": "ASC", "filter": {"cutoff_from": since, "cutoff_to": to}, "limit": 1000, "offset": offset}
            payload = expect(
                self.api.call("POST", "/v3/posting/fbs/unfulfilled/list", body=body),
                dict,
                "the postings answer",
                "Ozon",
            )
            result = expect(payload.get("result"), dict, "result", "Ozon")
            postings = expect(result.get("postings"), list, "postings", "Ozon")
            yield from postings
            offset += len(postings)
            if not postings or offset >= int(result.get("count") or 0):
                return

    def returns(self, since: str, to: str) -> Iterator[dict]:
        """FBO and FBS returns the buyer brought back in [since, to] (``/v1/returns/list``)."""
        last_id, seen = 0, set()
        while True:
            body = {
                "filter": {"logistic_return_date": {"time_from": since, "time_to": to}},
                "limit": 500,
                "last_id": last_id,
            }
            payload = expect(self.api.call("POST", "/v1/returns/list", body=body), dict, "the returns answer", "Ozon")
            returns = expect(payload.get("returns"), list, "returns", "Ozon")
            yield from returns
            if not payload.get("has_next") or not returns:
                return
            last_id = expect(returns[-1].get("id"), int, "returns[].id", "Ozon")
            unseen(seen, last_id, "Ozon /v1/returns/list")

    def check_credentials(self) -> str:
        """One cheap authenticated call, once (a health check answers now, not after the retries);
        raises ``ApiAuthError`` naming the variables to fix."""
        payload = self.api.call("POST", "/v2/warehouse/list", body={"limit": 1, "cursor": ""}, retry=False)
        warehouses = expect(payload, dict, "the warehouse list", "Ozon").get("warehouses", [])
        return f"Ozon account '{self.account}': credentials accepted, {len(warehouses)} seller warehouse(s)"
