"""Ozon Seller API under ``/ozon``: stocks, products, warehouses, stock updates, postings."""

from __future__ import annotations

import base64
import json
import math
import time
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace_sandbox.core import Sandbox, drop_nulls, json_response, ozon_error, request_fault
from marketplace_sandbox.ratelimit import Limit
from marketplace_sandbox.world import (
    OZON_ACCOUNTS,
    OZON_FBO_WAREHOUSES,
    OZON_FBS_WAREHOUSES,
    OZON_RFBS_WAREHOUSES,
    OzonItem,
    Sale,
)

GLOBAL_LIMIT = Limit(per_seconds=1 / 50, burst=50)  # 50 requests/second per Client-Id
STOCK_UPDATE_LIMIT = Limit(per_seconds=60 / 80, burst=80)  # 80 requests/minute
WAREHOUSE_LIST_LIMIT = Limit(per_seconds=60, burst=1)  # /v2/warehouse/list: 1 request per minute
PAIR_UPDATE_SECONDS = 30


class OzonError(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _bad_request(message: str) -> OzonError:
    return OzonError(ozon_error(400, 3, message))


def _encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"p": position}).encode()).decode()


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["p"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad_request("invalid cursor") from exc


def _parse_time(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise _bad_request(f"{field}: value is required")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as exc:
        raise _bad_request(f"{field}: invalid timestamp {value!r}") from exc


def _limit(body: dict, low: int, high: int, name: str) -> int:
    limit = body.get("limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or not low <= limit <= high:
        raise _bad_request(f"invalid {name}.Limit: value must be inside range [{low}, {high}]")
    return limit


class OzonApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world

    def routes(self) -> list[Route]:
        endpoints = {
            "/ozon/v4/product/info/stocks": self.product_stocks,
            "/ozon/v3/product/list": self.product_list,
            "/ozon/v2/warehouse/list": self.warehouse_list,
            "/ozon/v2/products/stocks": self.update_stocks,
            "/ozon/v3/posting/fbo/list": self.fbo_postings,
            "/ozon/v4/posting/fbs/list": self.fbs_postings,
            "/ozon/v3/posting/fbs/unfulfilled/list": self.unfulfilled,
            "/ozon/v1/returns/list": self.returns_list,
            "/ozon/v3/product/info/stocks": self.retired,
            "/ozon/v2/posting/fbo/list": self.retired,
            "/ozon/v3/posting/fbs/list": self.retired,
            "/ozon/v1/analytics/manage/stocks": self.retired,
        }
        return [Route(path, self._wrap(handler), methods=["POST"]) for path, handler in endpoints.items()]

    def _wrap(self, handler):
        async def endpoint(request: Request) -> Response:
            try:
                account = self._authenticate(request)
                raw = await request.body()
                try:
                    body = drop_nulls(json.loads(raw or b"{}"))
                except ValueError:
                    raise _bad_request("Request validation error: invalid JSON body") from None
                if not isinstance(body, dict):
                    raise _bad_request("Request validation error: body must be an object")
                with self.world.lock:
                    return handler(request, account, body)
            except OzonError as error:
                return error.response

        return endpoint

    def _authenticate(self, request: Request) -> str:
        client_id = request.headers.get("client-id")
        api_key = request.headers.get("api-key")
        if not client_id or not api_key:
            raise OzonError(ozon_error(401, 16, "Client-Id and Api-Key headers are required"))
        if not client_id.isdigit() or int(client_id) <= 0:
            raise OzonError(ozon_error(400, 3, "Client-Id header value should be positive integer"))
        for name, creds in OZON_ACCOUNTS.items():
            if creds["client_id"] == client_id and creds["api_key"] == api_key:
                allowed, _, _ = self.sandbox.throttle(("ozon", client_id), GLOBAL_LIMIT)
                if not allowed:
                    raise OzonError(
                        ozon_error(
                            429,
                            8,
                            "You have reached request rate limit per second",
                            {"retry-after": "1", "ratelimit-remaining": "0"},
                        )
                    )
                return name
        raise OzonError(ozon_error(404, 5, "Invalid Api-Key, please check the key and try again"))

    def retired(self, request: Request, account: str, body: dict) -> Response:
        return ozon_error(404, 12, "Method is disabled. Use the current version of the method")

    # -- stocks -------------------------------------------------------------------------
    def product_stocks(self, request: Request, account: str, body: dict) -> Response:
        limit = _limit(body, 1, 1000, "GetProductInfoStocksV4Request")
        flt = body.get("filter")
        if not isinstance(flt, dict):
            raise _bad_request("invalid GetProductInfoStocksV4Request.Filter: value is required")
        items = self._filtered(account, flt)
        fault = request_fault(request)
        if fault == "empty":
            items = []
        start = _decode_cursor(body.get("cursor", ""))
        page = items[start : start + limit]
        if start and len(items) - start > limit and (start // limit) % 2:
            page = page[: max(1, limit - limit // 8)]  # Ozon's pages are sometimes short mid-listing
        end = start + len(page)
        cursor = _encode_cursor(end) if end < len(items) else ""
        if fault == "truncate":
            page, cursor = page[: len(page) // 2], ""
        if fault == "stuck" and body.get("cursor"):
            cursor = body["cursor"]
        return json_response(
            {
                "items": [self._stock_item(account, it) for it in page],
                "cursor": cursor,
                "total": len(items),
                "total_items": len(items),
            }
        )

    def _filtered(self, account: str, flt: dict) -> list[OzonItem]:
        items = self.world.ozon[account]
        offer_ids = flt.get("offer_id") or []
        product_ids = flt.get("product_id") or []
        if offer_ids or product_ids:
            wanted_offers, wanted_products = set(map(str, offer_ids)), set(map(str, product_ids))
            items = [it for it in items if it.offer_id in wanted_offers or str(it.product_id) in wanted_products]
        visibility = flt.get("visibility", "ALL")
        if visibility == "EMPTY_STOCK":
            items = [it for it in items if not self._stocks(it) or all(s["present"] == 0 for s in self._stocks(it))]
        elif visibility == "ARCHIVED":
            items = []
        return items

    @staticmethod
    def _stocks(it: OzonItem) -> list[dict]:
        if not it.has_rows:
            return []
        rows = [
            {
                "sku": it.sku,
                "type": "fbo",
                "present": sum(e[1] for e in it.fbo),
                "reserved": sum(e[2] for e in it.fbo),
                "shipment_type": "SHIPMENT_TYPE_GENERAL",
                "warehouse_ids": [OZON_FBO_WAREHOUSES[e[0]][0] for e in it.fbo],
            },
            {
                "sku": it.sku,
                "type": "fbs",
                "present": it.fbs[0],
                "reserved": it.fbs[1],
                "shipment_type": "SHIPMENT_TYPE_GENERAL",
                "warehouse_ids": [OZON_FBS_WAREHOUSES[it.fbs_wh][0]],
            },
        ]
        if it.rfbs_wh is not None:
            rows.append(
                {
                    "sku": it.sku,
                    "type": "rfbs",
                    "present": it.rfbs[0],
                    "reserved": it.rfbs[1],
                    "shipment_type": "SHIPMENT_TYPE_GENERAL",
                    "warehouse_ids": [OZON_RFBS_WAREHOUSES[it.rfbs_wh][0]],
                }
            )
        return rows

    def _stock_item(self, account: str, it: OzonItem) -> dict:
        stocks = [
            {**row, "present": None} if self.world.ozon_unreadable(account, it, row["type"]) else row
            for row in self._stocks(it)
        ]
        if not stocks and it.offer_id in self.world.malformed_ozon_offers:
            stocks = [{"type": "fbs", "present": None}]
        return {"offer_id": it.offer_id, "product_id": it.product_id, "stocks": stocks}

    def product_list(self, request: Request, account: str, body: dict) -> Response:
        limit = _limit(body, 1, 1000, "ProductListRequest")
        items = self._filtered(account, body.get("filter") or {})
        last_id = body.get("last_id", "")
        start = _decode_cursor(last_id)
        page = items[start : start + limit]
        end = start + len(page)
        return json_response(
            {
                "result": {
                    "items": [
                        {
                            "product_id": it.product_id,
                            "offer_id": it.offer_id,
                            "archived": False,
                            "has_fbo_stocks": any(e[1] for e in it.fbo),
                            "has_fbs_stocks": it.fbs[0] > 0,
                            "is_discounted": False,
                            "quants": [],
                        }
                        for it in page
                    ],
                    "total": len(items),
                    "last_id": _encode_cursor(end) if end < len(items) else "",
                }
            }
        )

    def _per_minute(self, method: str, account: str, limit: Limit) -> Response | None:
        """The 429 of a method with its own per-minute limit, or None when the call may go on."""
        allowed, _, wait = self.sandbox.throttle((method, OZON_ACCOUNTS[account]["client_id"]), limit)
        if allowed:
            return None
        return ozon_error(
            429,
            8,
            "You have reached request rate limit per minute",
            {"retry-after": str(max(1, math.ceil(wait))), "ratelimit-remaining": "0"},
        )

    def warehouse_list(self, request: Request, account: str, body: dict) -> Response:
        if limited := self._per_minute("ozon-warehouse-list", account, WAREHOUSE_LIST_LIMIT):
            return limited
        wanted = {int(w) for w in body.get("warehouse_ids") or []}
        rows = [
            {
                "warehouse_id": wid,
                "name": name,
                "status": "created",
                "is_rfbs": rfbs,
                "has_entrusted_acceptance": False,
                # v2: an object with its type, enum PICK_UP / DROP_OFF / UNSPECIFIED (v1: first_mile_type)
                "first_mile": {"type": "DROP_OFF", "dropoff_point_id": "", "dropoff_timeslot_id": 0},
                "is_auto_assembly": False,
            }
            for rfbs, group in ((False, OZON_FBS_WAREHOUSES), (True, OZON_RFBS_WAREHOUSES))
            for wid, name in group
            if not wanted or wid in wanted
        ]
        return json_response({"cursor": "", "warehouses": rows})

    def update_stocks(self, request: Request, account: str, body: dict) -> Response:
        if limited := self._per_minute("ozon-stock-update", account, STOCK_UPDATE_LIMIT):
            return limited
        stocks = body.get("stocks")
        if not isinstance(stocks, list) or not 1 <= len(stocks) <= 100:
            raise _bad_request(
                "Request validation error: invalid ProductsStocksRequest.Stocks: "
                "value must contain between 1 and 100 items"
            )
        now = time.monotonic()
        result = []
        by_offer = self.world.ozon_by_offer[account]
        by_product = {str(it.product_id): it for it in self.world.ozon[account]}
        for row in stocks:
            if not isinstance(row, dict) or not isinstance(row.get("stock"), int):
                raise _bad_request(
                    "Request validation error: invalid ProductsStocksRequest.Stocks[0]: "
                    "embedded message failed validation"
                )
            item = by_offer.get(str(row.get("offer_id") or "")) or by_product.get(str(row.get("product_id") or ""))
            warehouse_id = int(row.get("warehouse_id") or 0)
            out = {
                "warehouse_id": warehouse_id,
                "product_id": item.product_id if item else row.get("product_id", 0),
                "offer_id": row.get("offer_id", ""),
                "updated": False,
                "errors": [],
            }
            fbs = [w for w, _ in OZON_FBS_WAREHOUSES]
            rfbs = [w for w, _ in OZON_RFBS_WAREHOUSES]
            key = (account, item.offer_id if item else "", warehouse_id)
            if item is None:
                out["errors"].append({"code": "offer_id_not_found", "message": "Product not found"})
            elif warehouse_id not in fbs + rfbs:
                out["errors"].append({"code": "WAREHOUSE_NOT_FOUND", "message": "Warehouse not found"})
            elif row["stock"] < 0 or row["stock"] >= 1_000_000:
                out["errors"].append({"code": "STOCK_TOO_BIG", "message": "Stock must be less than 1000000"})
            elif now - self.world.ozon_stock_updates.get(key, -1e9) < PAIR_UPDATE_SECONDS:
                out["errors"].append({"code": "TOO_MANY_REQUESTS", "message": "Stock is updated too frequently"})
            else:
                self.world.ozon_stock_updates[key] = now
                if warehouse_id in fbs:
                    item.fbs_wh = fbs.index(warehouse_id)
                    item.fbs[0] = row["stock"] + item.fbs[1]
                else:
                    item.rfbs_wh = rfbs.index(warehouse_id)
                    item.rfbs[0] = row["stock"] + item.rfbs[1]
                out["updated"] = True
            result.append(out)
        return json_response({"result": result})

    # -- postings -----------------------------------------------------------------------
    def _postings(self, account: str, body: dict, scheme: str, max_limit: int) -> Response:
        limit = _limit(body, 1, max_limit, "PostingListRequest")
        flt = body.get("filter") or {}
        since, to = _parse_time(flt.get("since"), "filter.since"), _parse_time(flt.get("to"), "filter.to")
        if to - since > timedelta(days=366):
            return ozon_error(400, 3, "PERIOD_IS_TOO_LONG")
        statuses = set(flt.get("statuses") or [])
        rows = []
        for sale in self.world.sales:
            if sale.channel != "ozon" or sale.account != account or sale.scheme != scheme:
                continue
            if not since <= sale.at <= to:
                continue
            status = self._status(sale)
            if statuses and status not in statuses:
                continue
            rows.append((sale, status))
        if body.get("sort_dir", "ASC").upper() == "DESC":
            rows.reverse()
        start = _decode_cursor(body.get("cursor", ""))
        page = rows[start : start + limit]
        end = start + len(page)
        item_by_offer = self.world.ozon_by_offer[account]
        postings = [self._posting(sale, status, item_by_offer.get(sale.sku), scheme) for sale, status in page]
        return json_response(
            {
                "cursor": _encode_cursor(end) if end < len(rows) else "",
                "has_next": end < len(rows),
                "postings": postings,
            }
        )

    def _status(self, sale: Sale) -> str:
        if sale.cancelled:
            return "cancelled"
        return "delivered" if sale.at < self.world.now - timedelta(days=3) else "delivering"

    @staticmethod
    def _posting(sale: Sale, status: str, item: OzonItem | None, scheme: str) -> dict:
        sku = item.sku if item else 0
        stamp = sale.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        posting = {
            "posting_number": f"{sale.order_id}-0001-1",
            "order_id": int(sale.order_id),
            "order_number": f"{sale.order_id}-0001",
            "status": status,
            "substatus": f"posting_{status}",
            "created_at": stamp,
            "in_process_at": stamp,
            "cancel_reason_id": 402 if sale.cancelled else 0,
            "products": [
                {
                    "sku": sku,
                    "offer_id": sale.sku,
                    "name": f"Haier {sale.sku}",
                    "quantity": sale.quantity,
                    "price": {"amount": f"{sale.price:.2f}", "currency": "RUB"},
                    "is_marketplace_buyout": False,
                    "digital_codes": [],
                }
            ],
            "analytics_data": {
                "city": "Москва",
                "delivery_type": "PVZ",
                "is_premium": False,
                "warehouse_id": (OZON_FBO_WAREHOUSES if scheme == "fbo" else OZON_FBS_WAREHOUSES)[0][0],
                "warehouse_name": (OZON_FBO_WAREHOUSES if scheme == "fbo" else OZON_FBS_WAREHOUSES)[0][1],
            },
            "financial_data": {
                "products": [
                    {
                        "product_id": item.product_id if item else 0,
                        "price": sale.price,
                        "old_price": sale.price,
                        "payout": round(sale.price * 0.85, 2),
                        "quantity": sale.quantity,
                        "commission": {"amount": round(sale.price * 0.15, 2), "percent": 15, "currency": "RUB"},
                        "actions": [],
                    }
                ]
            },
        }
        if scheme == "fbs":
            # /v4/posting/fbs/list: no created_at (in_process_at dates it), the cancellation as an
            # object, the warehouse by name under analytics_data.warehouse, no digital codes.
            warehouse = posting["analytics_data"]
            warehouse["warehouse"] = warehouse.pop("warehouse_name")
            del posting["created_at"]
            reason = posting.pop("cancel_reason_id")
            posting["cancellation"] = {
                "cancel_reason_id": reason,
                "cancel_reason": "Покупатель отменил заказ" if reason else "",
                "cancellation_type": "client" if reason else "",
                "cancelled_after_ship": False,
                "affect_cancellation_rating": False,
                "cancellation_initiator": "CLIENT" if reason else "",
            }
            for line in posting["products"]:
                del line["digital_codes"]
            posting["delivery_schema"] = "fbs"
            posting["shipment_date"] = (sale.at + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for line in posting["financial_data"]["products"]:
            del line["quantity"]  # not in either API: the quantity is on products[]
        return posting

    # -- returns ------------------------------------------------------------------------
    RETURN_DAYS = 3  # a returned sale comes back three days after it was ordered (as on WB)

    def returns_list(self, request: Request, account: str, body: dict) -> Response:
        """``/v1/returns/list``: FBO and FBS returns in one list, paged by ``last_id`` (ids ascending),
        filtered by the day the buyer returned the goods (``filter.logistic_return_date``)."""
        limit = _limit(body, 1, 500, "GetReturnsListRequest")
        flt = body.get("filter") or {}
        window = flt.get("logistic_return_date") or {}
        since = _parse_time(window["time_from"], "filter.logistic_return_date.time_from") if window else None
        to = _parse_time(window["time_to"], "filter.logistic_return_date.time_to") if window else None
        last_id = body.get("last_id") or 0
        if not isinstance(last_id, int):
            raise _bad_request("invalid GetReturnsListRequest.LastId: value must be an integer")
        now = self.world.now
        found = []
        for sale in self.world.sales:
            back = sale.at + timedelta(days=self.RETURN_DAYS)
            if sale.channel != "ozon" or sale.account != account or not sale.returned or sale.cancelled:
                continue
            if back > now or (since and back < since) or (to and back > to) or int(sale.order_id) <= last_id:
                continue
            found.append((sale, back))
        found.sort(key=lambda pair: int(pair[0].order_id))
        page = found[:limit]
        item_by_offer = self.world.ozon_by_offer[account]
        return json_response(
            {
                "returns": [self._return(sale, back, item_by_offer.get(sale.sku)) for sale, back in page],
                "has_next": len(found) > limit,
            }
        )

    @staticmethod
    def _return(sale: Sale, back: datetime, item: OzonItem | None) -> dict:
        stamp = back.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {
            "id": int(sale.order_id),
            "company_id": 1001,
            "return_reason_name": "Не подошёл",
            "type": "ClientReturn",
            "schema": sale.scheme.upper(),
            "order_id": int(sale.order_id),
            "order_number": f"{sale.order_id}-0001",
            "posting_number": f"{sale.order_id}-0001-1",
            "product": {
                "sku": item.sku if item else 0,
                "offer_id": sale.sku,
                "name": f"Haier {sale.sku}",
                "price": {"currency_code": "RUB", "price": float(sale.price)},
                "quantity": sale.quantity,
            },
            "logistic": {"return_date": stamp, "final_moment": stamp},
            "visual": {
                "status": {"id": 4, "display_name": "На складе Ozon", "sys_name": "ReturnedToOzon"},
                "change_moment": stamp,
            },
        }

    def fbo_postings(self, request: Request, account: str, body: dict) -> Response:
        return self._postings(account, body, "fbo", 1000)

    def unfulfilled(self, request: Request, account: str, body: dict) -> Response:
        """FBS postings awaiting packaging (the live mode's), paged by offset."""
        limit = _limit(body, 1, 1000, "PostingUnfulfilledListRequest")
        offset = int(body.get("offset") or 0)
        postings = self.sandbox.live.unfulfilled(account)
        items = self.world.ozon_by_offer[account]
        page = [
            {
                "posting_number": p.number,
                "status": "awaiting_packaging",
                "in_process_at": datetime.fromtimestamp(p.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "delivery_method": {"warehouse_id": p.warehouse_id},
                "products": [
                    {"offer_id": p.offer_id, "sku": items[p.offer_id].sku if p.offer_id in items else 0, "quantity": 1}
                ],
            }
            for p in postings[offset : offset + limit]
        ]
        return json_response({"result": {"postings": page, "count": len(postings)}})

    def fbs_postings(self, request: Request, account: str, body: dict) -> Response:
        flt = body.get("filter") or {}
        if not flt.get("since") or not flt.get("to"):
            raise _bad_request("invalid GetFbsPostingListV4Request.Filter: since and to are required")
        return self._postings(account, body, "fbs", 100)
