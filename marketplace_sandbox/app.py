"""The sandbox application: every API on one port, plus ``/_sandbox`` to steer and inspect it."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace_sandbox.core import FaultMiddleware, Sandbox, json_response
from marketplace_sandbox.faults import FaultInjector, parse_spec
from marketplace_sandbox.haier import HaierApi
from marketplace_sandbox.ozon import OzonApi
from marketplace_sandbox.wildberries import WildberriesApi
from marketplace_sandbox.wix import WixApi
from marketplace_sandbox.world import HAIER_CLIENT, OZON_ACCOUNTS, WB_ACCOUNTS, WIX_API_KEY, WIX_SITES, World


def create_app(
    skus: int = 200, seed: int = 1, faults: str = "", profile: str = "real", wix_in_sync: bool = False
) -> Starlette:
    """Build the sandbox. ``app.state.sandbox`` gives tests direct access to its state."""
    world = World(skus=skus, seed=seed, wix_in_sync=wix_in_sync)
    sandbox = Sandbox(world, FaultInjector(seed, parse_spec(faults)), profile)
    ozon, wb, wix, haier = OzonApi(sandbox), WildberriesApi(sandbox), WixApi(sandbox), HaierApi(sandbox)
    control = Control(sandbox, wb, haier, wix)
    app = Starlette(
        routes=ozon.routes() + wb.routes() + wix.routes() + haier.routes() + control.routes(),
        middleware=[Middleware(FaultMiddleware, sandbox=sandbox)],
    )
    app.state.sandbox = sandbox
    return app


class Control:
    """``/_sandbox``: ground truth, time, faults, configuration and call counts."""

    def __init__(self, sandbox: Sandbox, wb: WildberriesApi, haier: HaierApi, wix: WixApi) -> None:
        self.sandbox = sandbox
        self.wb = wb
        self.haier = haier
        self.wix = wix

    def routes(self) -> list[Route]:
        return [
            Route("/_sandbox/health", self.health, methods=["GET"]),
            Route("/_sandbox/accounts", self.accounts, methods=["GET"]),
            Route("/_sandbox/advance", self.advance, methods=["POST"]),
            Route("/_sandbox/truth/{channel}", self.truth, methods=["GET"]),
            Route("/_sandbox/sales/{channel}", self.sales, methods=["GET"]),
            Route("/_sandbox/faults", self.faults, methods=["GET", "PUT", "DELETE"]),
            Route("/_sandbox/calls", self.calls, methods=["GET", "DELETE"]),
            Route("/_sandbox/throttled", self.throttled, methods=["GET"]),
            Route("/_sandbox/config", self.config, methods=["GET", "PUT"]),
            Route("/_sandbox/collapse", self.collapse, methods=["POST"]),
            Route("/_sandbox/live", self.live, methods=["GET", "PUT"]),
        ]

    @staticmethod
    async def _body(request: Request) -> dict:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    async def health(self, request: Request) -> Response:
        world = self.sandbox.world
        return json_response(
            {
                "status": "ok",
                "skus": world.skus,
                "seed": world.seed,
                "profile": self.sandbox.profile,
                "now": world.now.isoformat(),
            }
        )

    async def accounts(self, request: Request) -> Response:
        return json_response(
            {
                "ozon": OZON_ACCOUNTS,
                "wb": WB_ACCOUNTS,
                "wix": {"api_key": WIX_API_KEY, "sites": WIX_SITES},
                "haier": HAIER_CLIENT,
            }
        )

    async def advance(self, request: Request) -> Response:
        try:
            hours = float((await self._body(request)).get("hours", 1))
        except (ValueError, TypeError):
            return json_response({"error": "hours must be a number"}, 400)
        if not 0 < hours <= 24 * 31:
            return json_response({"error": "hours must be within (0, 744]"}, 400)
        return json_response(self.sandbox.world.advance(hours))

    async def truth(self, request: Request) -> Response:
        channel = request.path_params["channel"]
        if channel not in {"ozon", "wb", "wix", "haier"}:
            return json_response({"error": f"unknown channel {channel!r}"}, 404)
        params = request.query_params
        account = params.get("account", "main")
        if channel in {"ozon", "wb"} and account not in (OZON_ACCOUNTS if channel == "ozon" else WB_ACCOUNTS):
            return json_response({"error": f"unknown account {account!r}"}, 404)
        site = params.get("site", "site-v1")
        if channel == "wix" and site not in WIX_SITES:
            return json_response({"error": f"unknown site {site!r}"}, 404)
        return json_response(self.sandbox.world.truth(channel, account, site))

    async def sales(self, request: Request) -> Response:
        channel = request.path_params["channel"]
        account = request.query_params.get("account", "main")
        if channel not in {"ozon", "wb"}:
            return json_response({"error": f"unknown channel {channel!r}"}, 404)
        return json_response(self.sandbox.world.sales_truth(channel, account))

    async def faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.sandbox.faults.set([])
        elif request.method == "PUT":
            try:
                body = await self._body(request)
                self.sandbox.faults.set(parse_spec(str(body.get("spec", ""))), body.get("slow_seconds"))
            except ValueError as exc:
                return json_response({"error": str(exc)}, 400)
        return json_response(
            {"rules": self.sandbox.faults.describe(), "slow_seconds": self.sandbox.faults.slow_seconds}
        )

    async def calls(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.sandbox.calls.clear()
            self.sandbox.throttled.clear()
        return json_response(dict(self.sandbox.calls))

    async def throttled(self, request: Request) -> Response:
        """Answers 429 per rate-limit bucket since the calls were last cleared."""
        return json_response(dict(self.sandbox.throttled))

    async def config(self, request: Request) -> Response:
        sandbox = self.sandbox
        if request.method == "PUT":
            try:
                body = await self._body(request)
                if "profile" in body:
                    if body["profile"] not in {"real", "fast"}:
                        raise ValueError("profile must be 'real' or 'fast'")
                    sandbox.profile = body["profile"]
                    sandbox.buckets.clear()
                if "haier_token_ttl" in body:
                    sandbox.haier_token_ttl = int(body["haier_token_ttl"])
                if "wb_row_cap" in body:
                    self.wb.row_cap = int(body["wb_row_cap"])
                if "wb_remains_seconds" in body:
                    value = body["wb_remains_seconds"]
                    self.wb.remains_seconds = None if value is None else float(value)
                if "wb_remains_outcome" in body:
                    if body["wb_remains_outcome"] not in {"done", "canceled", "purged"}:
                        raise ValueError("wb_remains_outcome must be 'done', 'canceled' or 'purged'")
                    self.wb.remains_outcome = body["wb_remains_outcome"]
                if "ozon_bad_rows" in body:
                    sandbox.world.malformed_ozon_offers = set(body["ozon_bad_rows"])
                if "wb_bad_amounts" in body:
                    sandbox.world.malformed_wb_amounts = {int(c) for c in body["wb_bad_amounts"]}
                if "wb_hidden_cards" in body:
                    shown = self.wb.hidden_cards - {int(n) for n in body["wb_hidden_cards"]}
                    self.wb.hidden_cards = {int(n) for n in body["wb_hidden_cards"]}
                    for account in sandbox.world.wb:  # a card listed again is listed as new (edited now)
                        sandbox.world.edit_cards(account, shown)
                if "wix_refusing" in body:  # SKUs whose every V3 write fails inside the 200
                    refusing = set(body["wix_refusing"])
                    for variant in (v for p in sandbox.world.wix["site-v3"] for v in p.variants):
                        variant.refuses_writes = variant.sku in refusing
                if "wix_transient_refusals" in body:
                    self.wix.transient_refusals = float(body["wix_transient_refusals"])
                if "unreadable" in body:
                    sandbox.world.unreadable = bool(body["unreadable"])
                    sandbox.world.pick_unreadable()
                if "haier_malformed" in body:
                    sandbox.world.malformed_haier_codes = set(body["haier_malformed"])
                if "haier_bad_images" in body:
                    self.haier.bad_images = dict(body["haier_bad_images"])
                if body.get("expire_haier_tokens"):
                    sandbox.haier_tokens.clear()
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, 400)
        return json_response(
            {
                "profile": sandbox.profile,
                "haier_token_ttl": sandbox.haier_token_ttl,
                "wb_row_cap": self.wb.row_cap,
                "wb_remains_seconds": self.wb.remains_seconds,
                "wb_remains_outcome": self.wb.remains_outcome,
                "haier_malformed": sorted(sandbox.world.malformed_haier_codes),
                "ozon_bad_rows": sorted(sandbox.world.malformed_ozon_offers),
                "wb_bad_amounts": sorted(sandbox.world.malformed_wb_amounts),
                "wb_hidden_cards": sorted(self.wb.hidden_cards),
                "unreadable": sandbox.world.unreadable,
                "wix_transient_refusals": self.wix.transient_refusals,
                "haier_bad_images": self.haier.bad_images,
            }
        )

    async def live(self, request: Request) -> Response:
        """The live mode: ``PUT {"running": true, "orders_per_minute": 20, "push_url": ...}`` starts
        buyers and sellers; ``GET`` reports changes, lags to Wix, oversold SKU-seconds and pushes."""
        live = self.sandbox.live
        if request.method == "PUT":
            try:
                body = await self._body(request)
                with self.sandbox.world.lock:
                    live.configure(body)
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, 400)
        return json_response(live.report())

    async def collapse(self, request: Request) -> Response:
        try:
            body = await self._body(request)
            kept = self.sandbox.world.collapse(
                body["channel"], body.get("account", "main"), float(body.get("keep_share", 0.1))
            )
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"error": f"expected channel, account, keep_share: {exc}"}, 400)
        return json_response({"kept": kept})
