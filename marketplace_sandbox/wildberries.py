"""Wildberries seller APIs, one path prefix per WB host: ``/wb/analytics``, ``/wb/marketplace``,
``/wb/content``, ``/wb/statistics``."""

from __future__ import annotations

import bisect
import itertools
import json
import math
import time
import uuid
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace_sandbox.core import Sandbox, drop_nulls, json_response, request_fault, wb_problem
from marketplace_sandbox.ratelimit import Limit
from marketplace_sandbox.world import MOSCOW, WB_ACCOUNTS, WB_SELLER_WAREHOUSES, WB_WAREHOUSES, Sale, WbItem

LIMITS = {
    "stocks-report": Limit(per_seconds=20, burst=1),  # 3 requests/minute, interval 20 s
    "remains-create": Limit(per_seconds=60, burst=5),  # warehouse-remains report: 1/minute, burst 5
    "remains-status": Limit(per_seconds=5, burst=5),  # 1 per 5 s, burst 5
    "remains-download": Limit(per_seconds=60, burst=1),  # 1/minute, burst 1
    # Two buckets in the spec, each 300/minute, burst 20: seller-warehouse methods, seller-stock methods.
    "seller-warehouses": Limit(per_seconds=0.2, burst=20),
    "seller-stocks": Limit(per_seconds=0.2, burst=20),
    "fbs-orders": Limit(per_seconds=0.2, burst=20),  # every FBS order, supply and pass method
    "content": Limit(per_seconds=0.6, burst=5),  # 100/minute, burst 5
    "orders": Limit(per_seconds=60, burst=10),
    "sales": Limit(per_seconds=60, burst=1),
    "ping": Limit(per_seconds=10, burst=3),  # 3 per 30 s
}
FOUR_XX_COST = 10  # on the marketplace host a 4XX answer counts as ten requests
MARKETPLACE_GROUPS = {"seller-warehouses", "seller-stocks", "fbs-orders"}
RETENTION_DAYS = 90
# The stocks report serves one aggregate per size today: warehouseId can only be -999999 (WB's
# OpenAPI, release note 570). Per-warehouse stock is in the warehouse-remains report.
WB_AGGREGATE = (-999999, "Склад WB", "Склад WB")
REMAINS_IN_WAY_TO_CLIENT = "В пути до получателей"
REMAINS_IN_WAY_FROM_CLIENT = "В пути возвраты на склад WB"
REMAINS_TOTAL = "Всего находится на складах"
REMAINS_READY_SECONDS = 1.5  # how long a remains report takes to build under the "real" profile
REMAINS_GROUPINGS = ("groupByBrand", "groupBySubject", "groupBySa", "groupByNm", "groupByBarcode", "groupBySize")
HOSTS = ("analytics", "marketplace", "content", "statistics")


class WbError(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _statistics_problem(status: int, title: str, detail: str) -> WbError:
    """An error of the analytics/statistics report methods: four fields, as WB's spec shows them."""
    body = {"detail": detail, "origin": "api-statistics", "requestId": uuid.uuid4().hex, "title": title}
    return WbError(json_response(body, status, media_type="application/problem+json"))


def _marketplace_error(status: int, code: str, message: str) -> WbError:
    return WbError(json_response({"code": code, "message": message}, status))


def _moscow(dt: datetime) -> str:
    return (dt.astimezone(UTC) + MOSCOW).strftime("%Y-%m-%dT%H:%M:%S")


def parse_date_from(value: str | None) -> datetime:
    """``dateFrom`` as WB reads it: a date or a datetime in Moscow time, returned in UTC."""
    if not value:
        raise WbError(json_response({"errors": ["dateFrom: field required"]}, 400))
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise WbError(json_response({"errors": "dateFrom: Value not validated"}, 400)) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC) - MOSCOW
    return parsed.astimezone(UTC)


class WildberriesApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.row_cap = 80_000
        self._card_order: dict[str, tuple[tuple, list[list[WbItem]], list[tuple[str, int]]]] = {}
        self._remains_tasks: dict[str, dict] = {}
        self.remains_seconds: float | None = None  # None: at once under "fast", REMAINS_READY_SECONDS under "real"
        self.remains_outcome = "done"  # what a finished remains task says: done, canceled or purged
        self.hidden_cards: set[int] = set()  # nmIDs the card listing leaves out (a card WB lost or trashed)

    def routes(self) -> list[Route]:
        routes = [Route(f"/wb/{host}/ping", self._wrap(self.ping, "ping"), methods=["GET"]) for host in HOSTS]
        routes += [
            Route(
                "/wb/analytics/api/analytics/v1/stocks-report/wb-warehouses",
                self._wrap(self.stocks_report, "stocks-report"),
                methods=["POST"],
            ),
            Route(
                "/wb/analytics/api/v1/warehouse_remains",
                self._wrap(self.remains_create, "remains-create"),
                methods=["GET"],
            ),
            Route(
                "/wb/analytics/api/v1/warehouse_remains/tasks/{task_id}/status",
                self._wrap(self.remains_status, "remains-status"),
                methods=["GET"],
            ),
            Route(
                "/wb/analytics/api/v1/warehouse_remains/tasks/{task_id}/download",
                self._wrap(self.remains_download, "remains-download"),
                methods=["GET"],
            ),
            Route(
                "/wb/marketplace/api/v3/warehouses", self._wrap(self.warehouses, "seller-warehouses"), methods=["GET"]
            ),
            Route(
                "/wb/marketplace/api/v3/stocks/{warehouse_id}",
                self._wrap(self.stocks, "seller-stocks"),
                methods=["POST", "PUT"],
            ),
            Route("/wb/marketplace/api/v3/orders/new", self._wrap(self.new_orders, "fbs-orders"), methods=["GET"]),
            Route(
                "/wb/marketplace/api/v3/orders/status", self._wrap(self.order_statuses, "fbs-orders"), methods=["POST"]
            ),
            Route("/wb/content/content/v2/get/cards/list", self._wrap(self.cards, "content"), methods=["POST"]),
            Route("/wb/statistics/api/v1/supplier/orders", self._wrap(self.orders, "orders"), methods=["GET"]),
            Route("/wb/statistics/api/v1/supplier/sales", self._wrap(self.sales, "sales"), methods=["GET"]),
            Route("/wb/statistics/api/v1/supplier/stocks", self.retired, methods=["GET"]),
        ]
        return routes

    async def retired(self, request: Request) -> Response:
        return wb_problem(
            404, "path not found", "Please consult the https://dev.wildberries.ru/openapi/api-information"
        )

    def _wrap(self, handler, group: str):
        async def endpoint(request: Request) -> Response:
            token = request.headers.get("authorization", "")
            token = token[7:] if token.lower().startswith("bearer ") else token
            account = next((name for name, c in WB_ACCOUNTS.items() if c["token"] == token), None)
            if account is None:
                detail = (
                    "empty Authorization header" if not token else "token problem; token is malformed: unknown token"
                )
                return wb_problem(401, "unauthorized", detail)
            key = ("wb", account, group)
            limit = LIMITS[group]
            allowed, remaining, wait = self.sandbox.throttle(key, limit)
            if not allowed:
                return wb_problem(
                    429,
                    "too many requests",
                    f"limited by sandbox bucket {group}",
                    {
                        "X-Ratelimit-Retry": str(max(1, math.ceil(wait))),
                        "X-Ratelimit-Limit": str(limit.burst),
                        "X-Ratelimit-Reset": str(max(1, self.sandbox.buckets.reset_seconds(key, limit))),
                    },
                )
            try:
                raw = await request.body()
                body = drop_nulls(json.loads(raw)) if raw else {}
                with self.world.lock:
                    response = handler(request, account, body)
            except ValueError:
                response = self._bad_body(group)
            except WbError as error:
                response = error.response
            if 400 <= response.status_code < 500 and group in MARKETPLACE_GROUPS:
                self.sandbox.throttle(key, limit, FOUR_XX_COST - 1)
            response.headers["X-Ratelimit-Remaining"] = str(remaining)
            return response

        return endpoint

    @staticmethod
    def _bad_body(group: str) -> Response:
        if group == "stocks-report":
            return json_response(
                {
                    "title": "Invalid request body",
                    "detail": "body is not valid JSON",
                    "requestId": "sandbox",
                    "origin": "analytic-open-api",
                },
                400,
            )
        return json_response({"code": "IncorrectRequestBody", "message": "Incorrect request body"}, 400)

    def ping(self, request: Request, account: str, body: dict) -> Response:
        return json_response({"TS": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Status": "OK"})

    # -- stocks -------------------------------------------------------------------------
    def stocks_report(self, request: Request, account: str, body: dict) -> Response:
        if not isinstance(body, dict):
            raise WbError(self._bad_body("stocks-report"))
        limit, offset = body.get("limit", 250_000), body.get("offset", 0)
        nm_ids = body.get("nmIds") or []
        chrt_ids = set(body.get("chrtIds") or [])
        if not isinstance(limit, int) or not 1 <= limit <= 250_000 or not isinstance(offset, int) or offset < 0:
            raise WbError(
                json_response(
                    {
                        "title": "Invalid request body",
                        "detail": "limit must be within 1..250000 and offset >= 0",
                        "requestId": "sandbox",
                        "origin": "analytic-open-api",
                    },
                    400,
                )
            )
        if len(nm_ids) > 1000:
            raise WbError(
                json_response(
                    {
                        "title": "Invalid request body",
                        "detail": "nmIds: at most 1000 items",
                        "requestId": "sandbox",
                        "origin": "analytic-open-api",
                    },
                    400,
                )
            )
        wanted = set(nm_ids)
        page = []
        fault = request_fault(request)
        if fault != "empty":
            stocked = (
                it
                for it in self.world.wb[account]
                if it.wb
                and (not wanted or it.nm_id in wanted)
                and not (chrt_ids and wanted and it.chrt_id not in chrt_ids)
            )
            wid, name, region = WB_AGGREGATE
            for it in itertools.islice(stocked, offset, offset + limit):
                page.append(
                    {
                        "nmId": it.nm_id,
                        "chrtId": it.chrt_id,
                        "warehouseId": wid,
                        "warehouseName": name,
                        "regionName": region,
                        "quantity": sum(w[1] for w in it.wb),
                        "inWayToClient": sum(w[2] for w in it.wb),
                        "inWayFromClient": sum(w[3] for w in it.wb),
                    }
                )
        if fault == "truncate":
            page = page[: len(page) // 2]
        return json_response({"data": {"items": page}})

    def remains_create(self, request: Request, account: str, body: dict) -> Response:
        """A warehouse-remains report task; the report is built now and served once it is ``done``."""
        groups = {}
        for name in REMAINS_GROUPINGS:
            value = request.query_params.get(name, "false")
            if value not in {"true", "false"}:
                raise _statistics_problem(400, "Bad Request", f'parameter "{name}" in query has an error')
            groups[name] = value == "true"
        task_id = str(uuid.uuid4())
        build = self.remains_seconds
        if build is None:
            build = 0.0 if self.sandbox.profile == "fast" else REMAINS_READY_SECONDS
        ready = time.monotonic() + build
        rows = [row for it in self.world.wb[account] for row in self._remains_rows(it, groups)]
        self._remains_tasks[task_id] = {
            "account": account,
            "ready_at": ready,
            "rows": rows,
            "end": self.remains_outcome,
        }
        return json_response({"data": {"taskId": task_id}})

    def _remains_task(self, request: Request, account: str) -> tuple[str, dict]:
        task_id = request.path_params["task_id"]
        task = self._remains_tasks.get(task_id)
        if task is None or task["account"] != account:
            raise _statistics_problem(404, "Not Found", "not found")
        return task_id, task

    def remains_status(self, request: Request, account: str, body: dict) -> Response:
        task_id, task = self._remains_task(request, account)
        status = task["end"] if time.monotonic() >= task["ready_at"] else "processing"
        return json_response({"data": {"id": task_id, "status": status}})

    def remains_download(self, request: Request, account: str, body: dict) -> Response:
        task_id, task = self._remains_task(request, account)
        if time.monotonic() < task["ready_at"] or task["end"] != "done":
            raise _statistics_problem(400, "Bad Request", f"task {task_id} is not done")
        rows = task["rows"]
        fault = request_fault(request)
        if fault == "empty":
            rows = []
        elif fault == "truncate":
            rows = rows[: len(rows) // 2]
        return json_response(rows)

    @staticmethod
    def _remains_rows(it: WbItem, groups: dict[str, bool]) -> list[dict]:
        """A size's rows of the remains report as WB's spec describes them: its warehouses and the
        report's summary lines in ``warehouses[]``, entries with nothing in them left out; one row per
        size, or per barcode (the size's stock under its first) when grouped by barcode too."""
        to_client, from_client = sum(w[2] for w in it.wb), sum(w[3] for w in it.wb)
        on_shelves = sum(w[1] for w in it.wb)
        if not (on_shelves or to_client or from_client):
            return []
        entries = [
            *((WB_WAREHOUSES[wh][1], quantity) for wh, quantity, _, _ in it.wb),
            (REMAINS_IN_WAY_TO_CLIENT, to_client),
            (REMAINS_IN_WAY_FROM_CLIENT, from_client),
            (REMAINS_TOTAL, on_shelves),
        ]
        rows = []
        for n, barcode in enumerate(it.barcodes if groups["groupByBarcode"] else [None]):
            row = {
                "brand": "Haier" if groups["groupByBrand"] else None,
                "subjectName": it.subject if groups["groupBySubject"] else None,
                "vendorCode": it.vendor_code if groups["groupBySa"] else None,
                "nmId": it.nm_id if groups["groupByNm"] else None,
                "barcode": barcode,
                "techSize": it.tech_size if groups["groupBySize"] else None,
                "volume": 1.2 if groups["groupByNm"] else None,
                "warehouses": [{"warehouseName": name, "quantity": q} for name, q in entries if q and not n],
            }
            rows.append({k: v for k, v in row.items() if v is not None})
        return rows

    def warehouses(self, request: Request, account: str, body: dict) -> Response:
        return json_response(
            [
                {"name": name, "officeId": office, "id": wid, "cargoType": 1, "deliveryType": 1}
                for wid, name, office in WB_SELLER_WAREHOUSES
            ]
        )

    def new_orders(self, request: Request, account: str, body: dict) -> Response:
        """FBS assembly orders not yet taken into a supply (the live mode's buyers place them)."""
        orders = [
            {k: v for k, v in o.items() if not k.startswith("_")} for o in self.sandbox.live.wb_new_orders(account)
        ]
        return json_response({"orders": orders})

    def order_statuses(self, request: Request, account: str, body: dict) -> Response:
        ids = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 1000 or not all(isinstance(i, int) for i in ids):
            raise _marketplace_error(400, "IncorrectRequest", "orders: from 1 to 1000 order ids")
        return json_response({"orders": self.sandbox.live.wb_statuses(account, ids)})

    def stocks(self, request: Request, account: str, body: dict) -> Response:
        warehouse_id = int(request.path_params["warehouse_id"]) if request.path_params["warehouse_id"].isdigit() else -1
        index = next((n for n, w in enumerate(WB_SELLER_WAREHOUSES) if w[0] == warehouse_id), None)
        if index is None:
            raise _marketplace_error(404, "NotFound", "Не найдено")
        if not isinstance(body, dict):
            raise _marketplace_error(400, "IncorrectRequestBody", "Incorrect request body")
        by_chrt = self.world.wb_by_chrt[account]
        if request.method == "POST":
            if "skus" in body or "chrtIds" not in body:
                raise _marketplace_error(
                    400, "IncorrectRequestBody", "Incorrect request body: skus are no longer supported, use chrtIds"
                )
            ids = body["chrtIds"]
            if not isinstance(ids, list) or not 1 <= len(ids) <= 1000:
                raise _marketplace_error(400, "IncorrectRequest", "chrtIds: from 1 to 1000 items")
            stocks = []
            if request_fault(request) != "empty":
                for chrt in ids:
                    item = by_chrt.get(chrt)
                    if item is not None:
                        amount = item.seller_amount if item.seller_wh == index else 0
                        if item.seller_wh == index and self.world.wb_unreadable(account, item):
                            amount = None  # the odd unreadable figure
                        stocks.append({"chrtId": chrt, "amount": amount})
            return json_response({"stocks": stocks})
        rows = body.get("stocks")
        if not isinstance(rows, list) or not 1 <= len(rows) <= 1000:
            raise _marketplace_error(400, "IncorrectRequest", "stocks: from 1 to 1000 items")
        if any("sku" in r or "chrtId" not in r for r in rows if isinstance(r, dict)):
            raise _marketplace_error(
                400, "IncorrectRequestBody", "Incorrect request body: sku is no longer supported, use chrtId"
            )
        for row in rows:
            amount = row.get("amount")
            if not isinstance(amount, int) or not 0 <= amount <= 100_000:
                raise _marketplace_error(400, "IncorrectParameter", "amount must be within 0..100000")
        missing = [r["chrtId"] for r in rows if r["chrtId"] not in by_chrt]
        if missing:
            return json_response(
                [{"code": "NotFound", "message": "Не найдено", "data": {"chrtId": c}} for c in missing], 409
            )
        for row in rows:
            item = by_chrt[row["chrtId"]]
            item.seller_wh, item.seller_amount = index, row["amount"]
        return Response(status_code=204)

    def cards(self, request: Request, account: str, body: dict) -> Response:
        settings = body.get("settings") if isinstance(body, dict) else None
        if not isinstance(settings, dict):
            raise _marketplace_error(400, "IncorrectRequestBody", "settings is required")
        cursor = settings.get("cursor") or {}
        limit = cursor.get("limit", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise _marketplace_error(400, "IncorrectRequest", "cursor.limit must be within 1..100")
        text = ((settings.get("filter") or {}).get("textSearch") or "").strip()
        cards, keys = self._cards_in_order(account)
        if text:
            cards = [c for c in cards if text in (c[0].vendor_code, str(c[0].nm_id))]
            keys = [(c[0].updated_at, c[0].nm_id) for c in cards]
        start = 0
        if cursor.get("updatedAt") and cursor.get("nmID"):
            start = bisect.bisect_right(keys, (cursor["updatedAt"], cursor["nmID"]))
        page = cards[start : start + limit]
        if start and len(cards) - start > limit and (start // limit) % 2:
            # WB answers short pages mid-listing: by its own end rule (total < limit) this looks like the last.
            page = page[: limit - limit // 8]
        if request_fault(request) == "truncate":
            page = page[: len(page) // 2]
        last = page[-1][0] if page else None
        return json_response(
            {
                "cards": [self._card(sizes) for sizes in page],
                "cursor": {
                    "updatedAt": last.updated_at if last else None,
                    "nmID": last.nm_id if last else None,
                    "total": len(page),
                },
            }
        )

    def _cards_in_order(self, account: str) -> tuple[list[list[WbItem]], list[tuple[str, int]]]:
        """Cards (each the list of its sizes) in the order the cursor walks, (updatedAt, nmID);
        re-sorted when the catalogue changes."""
        items = self.world.wb[account]
        cached = self._card_order.get(account)
        version = (len(items), frozenset(self.hidden_cards), self.world.card_edits)
        if cached is None or cached[0] != version:
            by_card: dict[int, list[WbItem]] = {}
            for it in items:
                by_card.setdefault(it.nm_id, []).append(it)
            ordered = sorted(by_card.values(), key=lambda sizes: (sizes[0].updated_at, sizes[0].nm_id))
            ordered = [c for c in ordered if c[0].nm_id not in self.hidden_cards]
            cached = (
                version,
                ordered,
                [(c[0].updated_at, c[0].nm_id) for c in ordered],
            )
            self._card_order[account] = cached
        return cached[1], cached[2]

    @staticmethod
    def _card(sizes: list[WbItem]) -> dict:
        it = sizes[0]
        return {
            "nmID": it.nm_id,
            "imtID": it.nm_id + 7_000_000,
            "nmUUID": f"00000000-0000-4000-8000-{it.nm_id:012d}",
            "subjectID": 1000,
            "subjectName": it.subject,
            "vendorCode": it.vendor_code,
            "brand": "Haier",
            "title": f"Haier {it.vendor_code}",
            "sizes": [
                {"chrtID": size.chrt_id, "techSize": size.tech_size, "wbSize": "", "skus": size.barcodes}
                for size in sizes
            ],
            "createdAt": it.updated_at,
            "updatedAt": it.updated_at,
        }

    # -- statistics ---------------------------------------------------------------------
    def _statistics(self, request: Request, account: str, kind: str) -> Response:
        date_from = parse_date_from(request.query_params.get("dateFrom"))
        flag = request.query_params.get("flag", "0")
        if flag not in {"0", "1"}:
            raise WbError(json_response({"errors": ["flag: must be 0 or 1"]}, 400))
        oldest = self.world.now - timedelta(days=RETENTION_DAYS)
        items = {it.sku: it for it in self.world.wb[account]}
        rows = []
        for sale in self.world.sales:
            if sale.channel != "wb" or sale.account != account or sale.at < oldest:
                continue
            rows.extend(self._rows(sale, kind, items.get(sale.sku)))
        if flag == "1":
            day = (date_from + MOSCOW).date()
            rows = [r for r in rows if r["date"][:10] == day.isoformat()]
        else:
            since = _moscow(date_from)
            rows = sorted((r for r in rows if r["lastChangeDate"] >= since), key=lambda r: r["lastChangeDate"])
            rows = rows[: self.row_cap]
        return json_response(rows)

    def _rows(self, sale: Sale, kind: str, item: WbItem | None) -> list[dict]:
        now = self.world.now
        if sale.at > now:
            return []
        wh_type = "Склад WB" if sale.scheme == "fbw" else "Склад продавца"
        base = {
            "warehouseName": "Коледино" if sale.scheme == "fbw" else WB_SELLER_WAREHOUSES[0][1],
            "warehouseType": wh_type,
            "countryName": "Россия",
            "oblastOkrugName": "Центральный федеральный округ",
            "regionName": "Московская",
            "supplierArticle": item.vendor_code if item else sale.sku,
            "nmId": item.nm_id if item else 0,
            "barcode": item.barcodes[0] if item else "",
            "category": item.category if item else "",
            "subject": item.subject if item else "",
            "brand": "Haier",
            "techSize": item.tech_size if item else "0",
            "incomeID": 0,
            "isSupply": False,
            "isRealization": True,
            "totalPrice": sale.price,
            "discountPercent": 10,
            "spp": 5,
            "finishedPrice": round(sale.price * 0.855, 2),
            "priceWithDisc": round(sale.price * 0.9, 2),
            "sticker": sale.order_id,
            "gNumber": f"9{sale.order_id}",
            "srid": f"sr.{sale.order_id}.0",
        }
        if kind == "orders":
            cancel = sale.at + timedelta(hours=5)
            return [
                {
                    **base,
                    "date": _moscow(sale.at),
                    "lastChangeDate": _moscow(cancel if sale.cancelled and cancel <= now else sale.last_change),
                    "isCancel": sale.cancelled,
                    "cancelDate": _moscow(cancel) if sale.cancelled else "0001-01-01T00:00:00",
                }
            ]
        if sale.cancelled or sale.at + timedelta(days=1) > now:
            return []
        sold_at = sale.at + timedelta(days=1)
        rows = [
            {
                **base,
                "date": _moscow(sold_at),
                "lastChangeDate": _moscow(sold_at + timedelta(minutes=30)),
                "paymentSaleAmount": 0,
                "forPay": round(sale.price * 0.8, 2),
                "saleID": f"S{sale.order_id}",
            }
        ]
        returned_at = sale.at + timedelta(days=3)
        if sale.returned and returned_at <= now:
            rows.append(
                {
                    **base,
                    "date": _moscow(returned_at),
                    "lastChangeDate": _moscow(returned_at + timedelta(minutes=30)),
                    "totalPrice": -sale.price,
                    "finishedPrice": -base["finishedPrice"],
                    "priceWithDisc": -base["priceWithDisc"],
                    "paymentSaleAmount": 0,
                    "forPay": -round(sale.price * 0.8, 2),
                    "saleID": f"R{sale.order_id}",
                }
            )
        return rows

    def orders(self, request: Request, account: str, body: dict) -> Response:
        return self._statistics(request, account, "orders")

    def sales(self, request: Request, account: str, body: dict) -> Response:
        return self._statistics(request, account, "sales")
