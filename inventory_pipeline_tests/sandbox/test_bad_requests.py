"""Whatever a client sends, the sandbox answers with a 4xx body, never a 5xx or a crash."""

from __future__ import annotations

import pytest
import requests

from marketplace_sandbox import SandboxServer

HEADERS = {
    "/ozon": {"Client-Id": "1001", "Api-Key": "sandbox-ozon-key-main"},
    "/wb": {"Authorization": "sandbox-wb-token-main"},
    "/wix": {"Authorization": "sandbox-wix-api-key", "wix-site-id": "site-v1"},
}
JUNK = [
    b"",
    b"null",
    b"[]",
    b"42",
    b'"text"',
    b"{",
    b'{"filter": [], "limit": "x", "cursor": 5}',
    b'{"settings": [], "stocks": {}, "query": "q", "chrtIds": "x"}',
    b'{"filter": {"since": 5, "to": []}, "limit": 10, "query": {"paging": {"limit": -1}}}',
    b'{"incrementData": [{"productId": 5}], "inventoryItems": [null], "productCodes": "x"}',
    # Every optional field of the real requests sent as null, as common client libraries do.
    b'{"dir": null, "sort_dir": null, "limit": 10, "offset": null, "last_id": null, "cursor": null,'
    b' "filter": {"since": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", "status": null,'
    b' "warehouse_id": null, "offer_id": null, "product_id": null, "visibility": null}, "with": null,'
    b' "translit": null}',
    b'{"nmIds": null, "chrtIds": null, "limit": null, "offset": null,'
    b' "settings": {"cursor": {"limit": 100, "updatedAt": null, "nmID": null}, "filter": null, "sort": null}}',
    b'{"query": {"filter": null, "sort": null, "paging": null, "cursorPaging": null}, "includeVariants": null}',
]


@pytest.fixture(scope="module")
def server():
    with SandboxServer(skus=30, seed=9) as sb:
        yield sb


def api_routes(server):
    for route in server.app.routes:
        if route.path.startswith("/_sandbox") or "{" in route.path:
            continue
        for method in route.methods - {"HEAD"}:
            yield method, route.path


def test_junk_never_gets_a_5xx(server):
    checked, crashes = 0, []
    for method, path in api_routes(server):
        prefix = "/" + path.split("/")[1]
        haier_token = requests.post(
            f"{server.url}/haier/oauth2/auth",
            json={
                "client_id": "sandbox-haier-client",
                "client_secret": "sandbox-haier-secret",
                "grant_type": "client_credentials",
            },
            timeout=5,
        ).json()["token"]
        headers = HEADERS.get(prefix, {"Authorization": haier_token})
        for body in JUNK:
            answer = requests.request(
                method,
                f"{server.url}{path}",
                data=body,
                headers=headers,
                timeout=10,
                params={"dateFrom": "x", "flag": "7"},
            )
            if answer.status_code >= 500:
                crashes.append((method, path, body))
            checked += 1
    assert crashes == []
    assert checked > 200
