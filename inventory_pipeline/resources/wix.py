"""Wix Stores client for one site: reads the catalogue and inventory, writes quantities.

Catalog V1 and V3 sites differ in every inventory call; this client speaks both and says which
the site is. Writes are never retried blindly: the pusher re-reads and decides again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from inventory_pipeline.defs.wix.plan import WixItem
from inventory_pipeline.resources.http import ApiRequestError, JsonApi, RetryPolicy, expect
from inventory_pipeline.resources.pacing import Bucket, Pacer, Rate, shared_buckets
from inventory_pipeline.resources.pages import unseen

PAGE = 100
DELTA_BATCH = 300  # increment/decrement: variants per call
BULK_BATCH = 1000  # V3 bulk update: items per call

# Wix's published limit: 200 requests a minute per site (app instance).
SITE = (Bucket("site", Rate(200, 200)),)


class StaleRevisionError(Exception):
    """A V3 write carried a revision Wix no longer has (409, or 428 as Wix also documents): re-read
    and plan again."""


STALE_REVISION = ("HTTP 409", "HTTP 428")


class WixStoresResource(ConfigurableResource):
    """Wix Stores REST API (``www.wixapis.com``) for one site; the API key arrives through ``EnvVar``."""

    base_url: str = "https://www.wixapis.com"
    api_key: str
    site_id: str
    timeout_seconds: float = 30.0
    retries: int = 3
    retry_delay_seconds: float = 5.0
    paced: bool = True
    """Wait for a turn under Wix's published limit (MARKETPLACE_PACING)."""
    pacing_store: str = ""
    """The inventory database's URL: where the account's buckets are shared with every other process
    of the instance (empty: this process's own)."""

    _api: JsonApi | None = PrivateAttr(default=None)

    @property
    def api(self) -> JsonApi:
        if self._api is None:
            headers = {
                "Authorization": self.api_key.strip(),
                "wix-site-id": self.site_id.strip(),
                "Content-Type": "application/json",
            }
            self._api = JsonApi(
                "Wix",
                self.base_url,
                headers,
                self.timeout_seconds,
                RetryPolicy(self.retries, self.retry_delay_seconds),
                "WIX_API_KEY / WIX_SITE_ID",
                url_hint="WIX_API_URL",
                pacer=Pacer(("wix", self.site_id.strip()), lambda _m, _p: SITE, shared_buckets(self.pacing_store))
                if self.paced
                else None,
            )
        return self._api

    @property
    def calls(self) -> int:
        return self._api.calls if self._api else 0

    def catalog_version(self, retry: bool = True) -> str:
        payload = expect(self.api.call("GET", "/stores/v3/provision/version", retry=retry), dict, "the version", "Wix")
        version = payload.get("catalogVersion")
        if version not in {"V1_CATALOG", "V3_CATALOG"}:
            raise ApiRequestError(f"Wix site {self.site_id!r} has no usable store (catalog version {version!r})")
        return version

    # -- reads ------------------------------------------------------------------------------
    def items(self, version: str) -> Iterator[WixItem]:
        """Every variant in the store with its SKU and current quantity."""
        return self._items_v1() if version == "V1_CATALOG" else self._items_v3()

    def _items_v1(self) -> Iterator[WixItem]:
        last, seen = 0, set()
        while True:
            # Wix queries stop at about 10,000 items by offset, so page by numericId instead.
            query = {
                "filter": json.dumps({"numericId": {"$gt": last}}),
                "sort": json.dumps([{"numericId": "asc"}]),
                "paging": {"limit": PAGE, "offset": 0},
            }
            payload = self.api.call("POST", "/stores/v1/products/query", body={"query": query, "includeVariants": True})
            products = expect(
                expect(payload, dict, "the products answer", "Wix").get("products"), list, "products", "Wix"
            )
            for product in products:
                yield from _v1_variants(product)
            if len(products) < PAGE:
                return
            last = int(products[-1]["numericId"])
            unseen(seen, last, "Wix's products query (numericId)")

    def _items_v3(self) -> Iterator[WixItem]:
        skus: dict[tuple[str, str], str] = {}
        for product in self._cursor("/stores/v3/products/query", "products", {}):
            for variant in product.get("variantsInfo", {}).get("variants", []):
                skus[(product["id"], variant["id"])] = variant.get("sku") or ""
        for item in self._cursor("/stores/v3/inventory-items/query", "inventoryItems", {}):
            sku = skus.get((item["productId"], item["variantId"]))
            if sku and item.get("trackQuantity", True):
                yield WixItem(
                    sku,
                    item["productId"],
                    item["variantId"],
                    item["id"],
                    int(item.get("quantity") or 0),
                    str(item.get("revision")),
                )

    def _cursor(self, path: str, key: str, flt: dict) -> Iterator[dict]:
        cursor, seen = None, set()
        while True:
            paging = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
            payload = expect(
                self.api.call("POST", path, body={"query": {"filter": flt, "cursorPaging": paging}}),
                dict,
                "the query answer",
                "Wix",
            )
            yield from expect(payload.get(key), list, key, "Wix")
            cursor = (payload.get("pagingMetadata") or {}).get("cursors", {}).get("next")
            if not cursor:
                return
            unseen(seen, cursor, f"Wix {path}")

    def reread(self, version: str, items: list[WixItem]) -> dict[str, WixItem]:
        """Current quantity (and revision) of these items, by SKU, read right now."""
        by_key = {(i.product_id, i.variant_id): i for i in items}
        fresh: dict[str, WixItem] = {}
        products = sorted({i.product_id for i in items})
        for start in range(0, len(products), PAGE):
            batch = products[start : start + PAGE]
            if version == "V1_CATALOG":
                query = {"filter": json.dumps({"productId": {"$in": batch}}), "paging": {"limit": PAGE, "offset": 0}}
                payload = self.api.call("POST", "/stores/v2/inventoryItems/query", body={"query": query})
                for inventory in expect(payload, dict, "inventory", "Wix").get("inventoryItems", []):
                    for variant in inventory.get("variants", []):
                        old = by_key.get((inventory["productId"], variant["variantId"]))
                        if old:
                            fresh[old.sku] = WixItem(
                                old.sku,
                                old.product_id,
                                old.variant_id,
                                old.inventory_item_id,
                                int(variant.get("quantity") or 0),
                            )
            else:
                for item in self._cursor(
                    "/stores/v3/inventory-items/query", "inventoryItems", {"productId": {"$in": batch}}
                ):
                    old = by_key.get((item["productId"], item["variantId"]))
                    if old:
                        fresh[old.sku] = WixItem(
                            old.sku,
                            old.product_id,
                            old.variant_id,
                            item["id"],
                            int(item.get("quantity") or 0),
                            str(item.get("revision")),
                        )
        return fresh

    # -- writes (never retried: a retry could apply a delta twice) ---------------------------
    def change_by(self, deltas: list[tuple[WixItem, int]]) -> None:
        """V1 increment/decrement, at most ``DELTA_BATCH`` variants per call."""
        for sign, path, field, key in (
            (1, "increment", "incrementBy", "incrementData"),
            (-1, "decrement", "decrementBy", "decrementData"),
        ):
            rows = [
                {"productId": i.product_id, "variantId": i.variant_id, field: abs(d)} for i, d in deltas if d * sign > 0
            ]
            for start in range(0, len(rows), DELTA_BATCH):
                self.api.call(
                    "POST",
                    f"/stores/v2/inventoryItems/{path}",
                    body={key: rows[start : start + DELTA_BATCH]},
                    retry=False,
                )

    def set_v3(self, targets: list[tuple[WixItem, int]]) -> dict[str, str]:
        """V3 bulk update to absolute quantities, carrying each item's revision. Wix answers every item
        inside a 200: returns the SKUs it did not write, with why (an item it cannot name, or the
        answer cannot be read for, counts as not written)."""
        failed: dict[str, str] = {}
        for start in range(0, len(targets), BULK_BATCH):
            batch = targets[start : start + BULK_BATCH]
            body = {
                "inventoryItems": [
                    {"inventoryItem": {"id": i.inventory_item_id, "revision": i.revision, "quantity": q}}
                    for i, q in batch
                ],
                "returnEntity": False,
            }
            try:
                answer = self.api.call("POST", "/stores/v3/bulk/inventory-items/update", body=body, retry=False)
            except ApiRequestError as exc:
                if any(status in str(exc) for status in STALE_REVISION):
                    raise StaleRevisionError(str(exc)) from None
                raise
            failed.update(_unwritten(batch, answer))
        return failed

    def check_credentials(self) -> str:
        return f"Wix site: credentials accepted, {self.catalog_version(retry=False)}"


def _unwritten(batch: list[tuple[WixItem, int]], answer: object) -> dict[str, str]:
    """The items of a bulk answer that were not written: ``success`` false, or no result for them."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        return {item.sku: "Wix answered no per-item results" for item, _ in batch}
    written: set[int] = set()
    failed: dict[str, str] = {}
    for result in results:
        meta = result.get("itemMetadata") if isinstance(result, dict) else None
        index = meta.get("originalIndex") if isinstance(meta, dict) else None
        if not isinstance(index, int) or not 0 <= index < len(batch):
            continue
        if meta.get("success") is True:
            written.add(index)
        else:
            error = meta.get("error") or {}
            failed[batch[index][0].sku] = f"{error.get('code', 'failed')}: {error.get('description', '')}".strip(": ")
    for index, (item, _) in enumerate(batch):
        if index not in written and item.sku not in failed:
            failed[item.sku] = "Wix's answer has no result for this item"
    return failed


def _v1_variants(product: dict) -> Iterator[WixItem]:
    """The variant whose SKU is the seller's SKU; a product without options has one default variant
    that carries the product's SKU."""
    variants = product.get("variants") or []
    for variant in variants:
        sku = (variant.get("variant") or {}).get("sku") or ""
        if not sku and len(variants) == 1:
            sku = product.get("sku") or ""
        if sku and (variant.get("stock") or {}).get("trackQuantity", True):
            yield WixItem(
                sku,
                product["id"],
                variant["id"],
                product.get("inventoryItemId", ""),
                int((variant.get("stock") or {}).get("quantity") or 0),
            )
