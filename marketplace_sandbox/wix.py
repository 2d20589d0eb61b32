"""Wix Stores under ``/wix``: a Catalog V1 site and a Catalog V3 site, chosen by ``wix-site-id``."""

from __future__ import annotations

import base64
import json
import random

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace_sandbox.core import Sandbox, drop_nulls, json_response, request_fault, wix_error
from marketplace_sandbox.ratelimit import Limit
from marketplace_sandbox.world import WIX_API_KEY, WIX_SITES, WixProduct, WixVariant

SITE_LIMIT = Limit(per_seconds=60 / 200, burst=200)  # 200 requests/minute per site
MAX_PAGE = 100
MAX_DELTA_ITEMS = 300
MAX_BULK_ITEMS = 1000
TRANSIENT_REFUSALS = 0.02  # share of V3 bulk items whose write fails this once, inside the 200
LOCATION_ID = "00000000-0000-4000-8000-00000000000a"


class WixError(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _validation(field: str, description: str, rule: str = "INVALID_ARGUMENT") -> WixError:
    return WixError(
        json_response(
            {
                "message": f"{field}: {description}",
                "details": {
                    "validationError": {
                        "fieldViolations": [{"field": field, "description": description, "violatedRule": rule}]
                    }
                },
            },
            400,
        )
    )


def _json_field(value: object, field: str) -> dict | list:
    """V1 queries carry filter and sort as JSON strings; objects are accepted too."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _validation(field, "must be a valid JSON string") from None
    if isinstance(value, dict | list):
        return value
    raise _validation(field, "must be a JSON string or an object")


def _object(value: object, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _validation(field, "must be an object")
    return value


def _values(condition: object) -> set[str] | None:
    """The set a filter condition on one field accepts (``$eq``, ``$in``, ``$hasSome`` or a bare value)."""
    if isinstance(condition, dict):
        for op in ("$in", "$hasSome", "$hasAll"):
            if op in condition:
                return {str(v) for v in condition[op]}
        if "$eq" in condition:
            return {str(condition["$eq"])}
        return None
    return {str(condition)}


def _paging(query: dict) -> tuple[int, int]:
    paging = query.get("paging") or {}
    limit, offset = paging.get("limit", 50), paging.get("offset", 0)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise _validation("query.paging.limit", f"must be between 1 and {MAX_PAGE}", "OUT_OF_RANGE")
    if not isinstance(offset, int) or offset < 0:
        raise _validation("query.paging.offset", "must not be negative", "OUT_OF_RANGE")
    return limit, offset


class WixApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.by_product: dict[str, dict[str, WixProduct]] = {}
        self.by_inventory: dict[str, dict[str, WixProduct]] = {}
        self.by_v3_item: dict[str, dict[str, tuple[WixProduct, WixVariant]]] = {}
        self.refusals = random.Random(f"{sandbox.world.seed}-wix-refusals")
        self.transient_refusals = TRANSIENT_REFUSALS
        for site, products in self.world.wix.items():
            self.by_product[site] = {p.id: p for p in products}
            self.by_inventory[site] = {p.inventory_item_id: p for p in products}
            self.by_v3_item[site] = {v.inventory_item_id_v3: (p, v) for p in products for v in p.variants}

    def routes(self) -> list[Route]:
        v1, v3, anyv = "V1_CATALOG", "V3_CATALOG", None
        spec = [
            ("/wix/stores/v1/products/query", ["POST"], self.query_products_v1, v1),
            ("/wix/stores-reader/v1/products/query", ["POST"], self.query_products_v1, v1),
            ("/wix/stores/v2/inventoryItems/query", ["POST"], self.query_inventory_v1, v1),
            ("/wix/stores/v2/inventoryItems/increment", ["POST"], self.increment, v1),
            ("/wix/stores/v2/inventoryItems/decrement", ["POST"], self.decrement, v1),
            ("/wix/stores/v2/inventoryItems/product/{product_id}/getVariants", ["POST"], self.get_variants, v1),
            ("/wix/stores/v2/inventoryItems/product/{product_id}", ["PATCH"], self.update_variants, v1),
            ("/wix/stores/v2/inventoryItems/{inventory_id}/getVariants", ["POST"], self.get_variants, v1),
            ("/wix/stores/v2/inventoryItems/{inventory_id}", ["PATCH"], self.update_variants, v1),
            ("/wix/stores/v3/provision/version", ["GET"], self.version, anyv),
            ("/wix/stores/v3/products/query", ["POST"], self.query_products_v3, v3),
            ("/wix/stores/v3/inventory-items/query", ["POST"], self.query_inventory_v3, v3),
            ("/wix/stores/v3/bulk/inventory-items/update", ["POST"], self.bulk_update_v3, v3),
            ("/wix/stores/v3/inventory-items/{item_id}", ["PATCH"], self.update_item_v3, v3),
        ]
        return [Route(path, self._wrap(handler, version), methods=methods) for path, methods, handler, version in spec]

    def _wrap(self, handler, version: str | None):
        async def endpoint(request: Request) -> Response:
            key = request.headers.get("authorization", "")
            if not key:
                return wix_error(401, "UNAUTHENTICATED", "UNAUTHENTICATED: Missing Token")
            if key != WIX_API_KEY:
                return wix_error(401, "UNAUTHENTICATED", "UNAUTHENTICATED: Invalid API key")
            site = request.headers.get("wix-site-id", "")
            if site not in WIX_SITES:
                return wix_error(
                    403, "PERMISSION_DENIED", "PERMISSION_DENIED: wix-site-id header is missing or unknown"
                )
            allowed, _, _ = self.sandbox.throttle(("wix", site), SITE_LIMIT)
            if not allowed:
                return wix_error(429, "RESOURCE_EXHAUSTED", "Too Many Requests")
            if version and WIX_SITES[site] != version:
                return wix_error(
                    428,
                    "FAILED_PRECONDITION",
                    f"FAILED_PRECONDITION: this site uses {WIX_SITES[site]}; the call needs {version}",
                )
            try:
                raw = await request.body()
                body = drop_nulls(json.loads(raw)) if raw else {}
                if not isinstance(body, dict):
                    raise _validation("body", "must be an object")
                with self.world.lock:
                    return handler(request, site, body)
            except ValueError:
                return json_response({"message": "invalid JSON body", "details": {}}, 400)
            except WixError as error:
                return error.response

        return endpoint

    def version(self, request: Request, site: str, body: dict) -> Response:
        return json_response({"catalogVersion": WIX_SITES[site]})

    # -- V1 -----------------------------------------------------------------------------
    @staticmethod
    def _product_v1(p: WixProduct, include_variants: bool) -> dict:
        qty = sum(v.quantity for v in p.variants)
        status = (
            "IN_STOCK"
            if all(v.quantity > 0 for v in p.variants)
            else ("OUT_OF_STOCK" if qty == 0 else "PARTIALLY_OUT_OF_STOCK")
        )
        out = {
            "id": p.id,
            "name": p.name,
            "sku": p.sku,
            "visible": True,
            "productType": "physical",
            "manageVariants": p.manage_variants,
            "inventoryItemId": p.inventory_item_id,
            "numericId": str(p.numeric_id),
            "stock": {"trackInventory": True, "quantity": qty, "inStock": qty > 0, "inventoryStatus": status},
            "priceData": {"currency": "RUB", "price": p.variants[0].price, "discountedPrice": p.variants[0].price},
            "lastUpdated": p.last_updated,
        }
        if include_variants:
            out["variants"] = [
                {
                    "id": v.id,
                    "choices": v.choices,
                    "variant": {"priceData": {"price": v.price}, "sku": v.sku, "weight": 0, "visible": True},
                    "stock": {"trackQuantity": True, "quantity": v.quantity, "inStock": v.quantity > 0},
                }
                for v in p.variants
            ]
        return out

    def _filter_products(self, site: str, flt: dict) -> list[WixProduct]:
        products = self.world.wix[site]
        if "sku" in flt:
            skus = _values(flt["sku"]) or set()
            products = [p for p in products if p.sku in skus or any(v.sku in skus for v in p.variants)]
        if "id" in flt:
            ids = _values(flt["id"]) or set()
            products = [p for p in products if p.id in ids]
        numeric = flt.get("numericId")
        if isinstance(numeric, dict) and "$gt" in numeric:
            products = [p for p in products if p.numeric_id > int(numeric["$gt"])]
        return products

    def query_products_v1(self, request: Request, site: str, body: dict) -> Response:
        query = _object(body.get("query"), "query")
        flt = _json_field(query.get("filter"), "query.filter")
        _json_field(query.get("sort"), "query.sort")
        limit, offset = _paging(query)
        products = self._filter_products(site, flt if isinstance(flt, dict) else {})
        page = products[offset : offset + limit]
        return json_response(
            {
                "products": [self._product_v1(p, bool(body.get("includeVariants"))) for p in page],
                "metadata": {"items": len(page), "offset": offset},
                "totalResults": len(products),
            }
        )

    @staticmethod
    def _inventory_v1(p: WixProduct) -> dict:
        return {
            "id": p.inventory_item_id,
            "externalId": p.id,
            "productId": p.id,
            "trackQuantity": True,
            "variants": [
                {"variantId": v.id, "inStock": v.quantity > 0, "quantity": v.quantity, "availableForPreorder": False}
                for v in p.variants
            ],
            "lastUpdated": p.last_updated,
            "numericId": str(p.numeric_id),
            "preorderInfo": {"enabled": False, "message": "", "limit": None},
        }

    def query_inventory_v1(self, request: Request, site: str, body: dict) -> Response:
        query = _object(body.get("query"), "query")
        flt = _json_field(query.get("filter"), "query.filter")
        limit, offset = _paging(query)
        products = self.world.wix[site]
        for field in ("productId", "externalId"):
            if isinstance(flt, dict) and field in flt:
                ids = _values(flt[field]) or set()
                products = [p for p in products if p.id in ids]
        if isinstance(flt, dict) and "id" in flt:
            ids = _values(flt["id"]) or set()
            products = [p for p in products if p.inventory_item_id in ids]
        page = products[offset : offset + limit]
        return json_response(
            {
                "inventoryItems": [self._inventory_v1(p) for p in page],
                "metadata": {"items": len(page), "offset": offset},
                "totalResults": len(products),
            }
        )

    def _product_for(self, site: str, request: Request) -> WixProduct:
        params = request.path_params
        product = (
            self.by_product[site].get(params["product_id"])
            if "product_id" in params
            else self.by_inventory[site].get(params["inventory_id"])
        )
        if product is None:
            raise WixError(wix_error(404, "NOT_FOUND", "NOT_FOUND: inventory item not found"))
        return product

    def get_variants(self, request: Request, site: str, body: dict) -> Response:
        return json_response({"inventoryItem": self._inventory_v1(self._product_for(site, request))})

    def update_variants(self, request: Request, site: str, body: dict) -> Response:
        product = self._product_for(site, request)
        item = body.get("inventoryItem")
        if not isinstance(item, dict) or not isinstance(item.get("variants"), list):
            raise _validation("inventoryItem.variants", "is required")
        variants = {v.id: v for v in product.variants}
        updates = []
        for n, row in enumerate(item["variants"]):
            variant = variants.get(str(row.get("variantId")))
            if variant is None:
                raise _validation(f"inventoryItem.variants[{n}].variantId", "unknown variant")
            quantity = row.get("quantity")
            if not isinstance(quantity, int) or quantity < 0:
                raise _validation(
                    f"inventoryItem.variants[{n}].quantity", "must be a non-negative integer", "OUT_OF_RANGE"
                )
            updates.append((variant, quantity))
        for variant, quantity in updates:
            variant.quantity = quantity
        return json_response({})

    def _delta(self, site: str, rows: object, field: str, sign: int) -> Response:
        data_field = "incrementData" if sign > 0 else "decrementData"
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_DELTA_ITEMS:
            raise _validation(data_field, f"must contain between 1 and {MAX_DELTA_ITEMS} items", "OUT_OF_RANGE")
        changes = []
        for n, row in enumerate(rows):
            product = (
                self.by_product[site].get(str(row.get("productId")))
                if row.get("productId")
                else self.by_inventory[site].get(str(row.get("inventoryId")))
            )
            if product is None:
                raise WixError(wix_error(404, "NOT_FOUND", f"NOT_FOUND: {data_field}[{n}] product not found"))
            variant = next((v for v in product.variants if v.id == row.get("variantId")), None)
            if variant is None:
                raise _validation(f"{data_field}[{n}].variantId", "unknown variant")
            amount = row.get(field)
            if not isinstance(amount, int) or amount <= 0:
                raise _validation(f"{data_field}[{n}].{field}", "must be positive", "MIN")
            changes.append((variant, amount))
        for variant, amount in changes:
            variant.quantity = max(0, variant.quantity + sign * amount)
        return json_response({})

    def increment(self, request: Request, site: str, body: dict) -> Response:
        return self._delta(site, body.get("incrementData"), "incrementBy", 1)

    def decrement(self, request: Request, site: str, body: dict) -> Response:
        return self._delta(site, body.get("decrementData"), "decrementBy", -1)

    # -- V3 -----------------------------------------------------------------------------
    @staticmethod
    def _cursor_page(items: list, query: dict, has_next: bool = True) -> tuple[list, dict]:
        """One cursor page; ``has_next``: the products query says ``hasNext``, the inventory-items
        query does not (its ``pagingMetadata`` is ``count`` and ``cursors`` only)."""
        paging = query.get("cursorPaging") or {}
        limit = paging.get("limit", 100)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise _validation("query.cursorPaging.limit", f"must be between 1 and {MAX_PAGE}", "OUT_OF_RANGE")
        start = int(base64.urlsafe_b64decode(paging["cursor"]).decode()) if paging.get("cursor") else 0
        page = items[start : start + limit]
        end = start + len(page)
        nxt = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
        meta = {"count": len(page), "cursors": {"next": nxt}}
        return page, {**meta, "hasNext": nxt is not None} if has_next else meta

    def query_products_v3(self, request: Request, site: str, body: dict) -> Response:
        query = _object(body.get("query"), "query")
        flt = query.get("filter") or {}
        products = self.world.wix[site]
        skus = _values(flt.get("variantsInfo.variants.sku")) if "variantsInfo.variants.sku" in flt else None
        if skus is not None:
            products = [p for p in products if any(v.sku in skus for v in p.variants)]
        page, meta = self._cursor_page(products, query)
        return json_response(
            {
                "products": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "revision": "1",
                        "variantsInfo": {
                            "variants": [
                                {
                                    "id": v.id,
                                    "sku": v.sku,
                                    "choices": [
                                        {"optionChoiceNames": {"optionName": k, "choiceName": c}}
                                        for k, c in v.choices.items()
                                    ],
                                }
                                for v in p.variants
                            ]
                        },
                    }
                    for p in page
                ],
                "pagingMetadata": meta,
            }
        )

    @staticmethod
    def _item_v3(p: WixProduct, v: WixVariant) -> dict:
        return {
            "id": v.inventory_item_id_v3,
            "revision": str(v.revision),
            "variantId": v.id,
            "productId": p.id,
            "locationId": LOCATION_ID,
            "trackQuantity": True,
            "quantity": v.quantity,
            "availabilityStatus": "IN_STOCK" if v.quantity > 0 else "OUT_OF_STOCK",
        }

    def query_inventory_v3(self, request: Request, site: str, body: dict) -> Response:
        query = _object(body.get("query"), "query")
        flt = query.get("filter") or {}
        pairs = [(p, v) for p in self.world.wix[site] for v in p.variants]
        if "productId" in flt:
            ids = _values(flt["productId"]) or set()
            pairs = [(p, v) for p, v in pairs if p.id in ids]
        if "variantId" in flt:
            ids = _values(flt["variantId"]) or set()
            pairs = [(p, v) for p, v in pairs if v.id in ids]
        if "id" in flt:
            ids = _values(flt["id"]) or set()
            pairs = [(p, v) for p, v in pairs if v.inventory_item_id_v3 in ids]
        page, meta = self._cursor_page(pairs, query, has_next=False)
        sent = (query.get("cursorPaging") or {}).get("cursor")
        if request_fault(request) == "stuck" and sent:
            meta["cursors"]["next"] = sent
        return json_response({"inventoryItems": [self._item_v3(p, v) for p, v in page], "pagingMetadata": meta})

    def _resolve_v3(self, site: str, item: dict, n: int, stale_status: int = 409) -> tuple[WixProduct, WixVariant, int]:
        found = self.by_v3_item[site].get(str(item.get("id")))
        if found is None:
            raise WixError(wix_error(404, "NOT_FOUND", f"NOT_FOUND: inventoryItems[{n}] not found"))
        quantity = item.get("quantity", (item.get("trackingMethod") or {}).get("quantity"))
        if not isinstance(quantity, int) or quantity < 0:
            raise _validation(f"inventoryItems[{n}].quantity", "must be a non-negative integer", "OUT_OF_RANGE")
        product, variant = found
        if str(item.get("revision")) != str(variant.revision):
            raise WixError(
                json_response(
                    {
                        "message": "INVALID_REVISION: inventory item was modified",
                        "details": {
                            "applicationError": {
                                "code": "INVALID_REVISION",
                                "description": f"inventoryItems[{n}] "
                                f"revision {item.get('revision')} is stale, current {variant.revision}",
                                "data": {"id": variant.inventory_item_id_v3},
                            }
                        },
                    },
                    stale_status,
                )
            )
        return product, variant, quantity

    def bulk_update_v3(self, request: Request, site: str, body: dict) -> Response:
        """Every item's own result inside a 200: an item that refuses its write fails alone. A stale
        revision refuses the whole batch with 428 (Wix documents 409 as well; the single PATCH says 409)."""
        rows = body.get("inventoryItems")
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_BULK_ITEMS:
            raise _validation("inventoryItems", f"must contain between 1 and {MAX_BULK_ITEMS} items", "OUT_OF_RANGE")
        resolved = [
            self._resolve_v3(site, (row or {}).get("inventoryItem") or {}, n, stale_status=428)
            for n, row in enumerate(rows)
        ]
        results = []
        for n, (product, variant, quantity) in enumerate(resolved):
            refused = variant.refuses_writes or self.refusals.random() < self.transient_refusals
            meta = {"id": variant.inventory_item_id_v3, "originalIndex": n, "success": not refused}
            if refused:
                meta["error"] = {
                    "code": "INVENTORY_ITEM_UPDATE_FAILED",
                    "description": f"inventory item {variant.inventory_item_id_v3} cannot be updated now",
                }
            else:
                variant.quantity = quantity
                variant.revision += 1
            result = {"itemMetadata": meta}
            if body.get("returnEntity") and not refused:
                result["item"] = self._item_v3(product, variant)
            results.append(result)
        failures = sum(1 for r in results if not r["itemMetadata"]["success"])
        return json_response(
            {
                "results": results,
                "bulkActionMetadata": {
                    "totalSuccesses": len(results) - failures,
                    "totalFailures": failures,
                    "undetailedFailures": 0,
                },
            }
        )

    def update_item_v3(self, request: Request, site: str, body: dict) -> Response:
        item = dict(body.get("inventoryItem") or {})
        item.setdefault("id", request.path_params["item_id"])
        product, variant, quantity = self._resolve_v3(site, item, 0)
        variant.quantity = quantity
        variant.revision += 1
        return json_response({"inventoryItem": self._item_v3(product, variant)})
