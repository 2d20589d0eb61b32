"""Haier open platform (巨商汇 / 易理货) under ``/haier``: token, products, prices, stock, images.

The response envelope ``{"code": "0", "message": "success", "data": ...}`` is a sandbox convention:
Haier does not document one (see the API reference).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
import time
import zlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace_sandbox.core import Sandbox, haier_error, json_response
from marketplace_sandbox.world import HAIER_CLIENT, HaierProduct

PRODUCTS_PATH = (
    "/haier/yilihuo/jsh-service-goods-mall-search/api/product-info/procurable-products-out/check-procurable-products"
)
PRICES_PATH = "/haier/yilihuo/jsh-service-goods-price/api/goods-price/price-daily-sales/price-query/pt-out-list-price"
STOCK_PATH = "/haier/yilihuo/jsh-service-stock-mall/api/page/stock/get-available-stock-open"
MAX_CODES = 20
OVERSIZE_BYTES = 12 * 1024 * 1024


def png_bytes(seed: str, size: int = 16) -> bytes:
    """A small, valid PNG whose colour depends on ``seed``."""
    r, g, b = hashlib.sha256(seed.encode()).digest()[:3]
    raw = b"".join(b"\x00" + bytes((r, g, b)) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def envelope(data: object) -> Response:
    return json_response({"code": "0", "message": "success", "data": data})


class HaierApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.by_code = {p.code: p for p in self.world.haier}
        self.bad_images: dict[str, str] = {}  # product code -> "html" | "oversize"

    def routes(self) -> list[Route]:
        return [
            Route("/haier/oauth2/auth", self.token, methods=["POST"]),
            Route("/haier/oauth2/token", self.token, methods=["POST"]),
            Route(PRODUCTS_PATH, self._wrap(self.products), methods=["POST"]),
            Route(PRICES_PATH, self._wrap(self.prices), methods=["POST"]),
            Route(STOCK_PATH, self._wrap(self.stock), methods=["POST"]),
            Route("/haier/images/{code}/{name}", self.image, methods=["GET"]),
        ]

    async def token(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return haier_error(400, "invalid request body")
        if not isinstance(body, dict):
            return haier_error(400, "invalid request body")
        if body.get("grant_type") != "client_credentials":
            return haier_error(400, "unsupported_grant_type")
        if (
            body.get("client_id") != HAIER_CLIENT["client_id"]
            or body.get("client_secret") != HAIER_CLIENT["client_secret"]
        ):
            return haier_error(401, "invalid_client")
        token = secrets.token_urlsafe(24)
        ttl = self.sandbox.haier_token_ttl
        self.sandbox.haier_tokens[token] = time.monotonic() + ttl
        return json_response({"token": token, "access_token": token, "token_type": "Bearer", "expires_in": ttl})

    def _wrap(self, handler):
        async def endpoint(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            token = header[7:] if header.lower().startswith("bearer ") else header
            expires = self.sandbox.haier_tokens.get(token)
            if not token:
                return haier_error(401, "missing token")
            if expires is None or expires < time.monotonic():
                return haier_error(401, "token expired or invalid")
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return haier_error(400, "invalid request body")
            if not isinstance(body, dict):
                return haier_error(400, "invalid request body")
            with self.world.lock:
                return handler(request, body)

        return endpoint

    def _codes(self, body: dict) -> list[str] | Response:
        if (
            body.get("customerCode") != HAIER_CLIENT["customer_code"]
            or body.get("passWord") != HAIER_CLIENT["password"]
        ):
            return haier_error(403, "客户编码或密码错误")
        codes = body.get("productCodes") or []
        if not isinstance(codes, list) or len(codes) > MAX_CODES:
            return haier_error(400, f"productCodes 最多{MAX_CODES}个")
        return [str(c) for c in codes]

    def _selected(self, codes: list[str]) -> list[HaierProduct]:
        # An empty code list returns the whole procurable catalogue (sandbox convention).
        return [self.by_code[c] for c in codes if c in self.by_code] if codes else list(self.world.haier)

    def products(self, request: Request, body: dict) -> Response:
        codes = self._codes(body)
        if isinstance(codes, Response):
            return codes
        base = str(request.base_url).rstrip("/")
        rows = []
        for p in self._selected(codes):
            images = [f"{base}/haier/images/{p.code}/{n}.png" for n in range(p.image_count)]
            row = {
                "productCode": p.code,
                "productModel": p.model,
                "productGroupNamd": p.group,
                "productBrandName": p.brand,
                "productImageUrl": images[0],
                "productLageUrls": images,
                "isSales": p.is_sales,
                "noSalesReason": p.no_sales_reason,
            }
            if p.code in self.world.malformed_haier_codes:
                row = {"productCode": None, "productModel": 12345, "isSales": "maybe"}
            rows.append(row)
        return envelope(rows)

    def prices(self, request: Request, body: dict) -> Response:
        codes = self._codes(body)
        if isinstance(codes, Response):
            return codes
        rows = []
        for p in self._selected(codes):
            invoice = round(p.supply_price * (1 - p.stock_rebate) - p.rebate_money, 2)
            rows.append(
                {
                    "productCode": p.code,
                    "supplyPrice": p.supply_price,
                    "invoicePrice": invoice,
                    "stockRebatePolicy": p.stock_rebate,
                    "rebateMoney": p.rebate_money,
                    "reason": "" if p.is_sales == "1" else "商品暂不可采",
                    "isSales": p.is_sales,
                }
            )
        return envelope(rows)

    def stock(self, request: Request, body: dict) -> Response:
        if (
            body.get("salesCode") != HAIER_CLIENT["customer_code"]
            or body.get("sellerPassword") != HAIER_CLIENT["password"]
        ):
            return haier_error(403, "客户编码或密码错误")
        county = str(body.get("countyCode", ""))
        if len(county) != 6 or not county.isdigit():
            return haier_error(400, "countyCode 必须为6位区县编码")
        product = self.by_code.get(str(body.get("productCode", "")))
        if product is None:
            return haier_error(404, "商品不存在")
        stock = product.stock.get(county, 0)
        return envelope(
            {
                "secCode": product.sec_code,
                "stock": str(stock),
                "warehouseGrade": "0",
                "timelinessData": {"cutTime": "16:00", "achieveUserOrderCut": "1", "hour": "24", "isTranfer": "0"},
            }
        )

    async def image(self, request: Request) -> Response:
        code = request.path_params["code"]
        if code not in self.by_code:
            return Response(b"not found", 404, media_type="text/plain")
        kind = self.bad_images.get(code)
        if kind == "html":
            return Response(b"<html><body>error</body></html>", media_type="text/html")
        if kind == "oversize":
            return Response(b"\x89PNG" + b"\x00" * OVERSIZE_BYTES, media_type="image/png")
        return Response(png_bytes(f"{code}/{request.path_params['name']}"), media_type="image/png")
