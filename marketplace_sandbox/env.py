"""The settings that point the pipeline's production clients at a running sandbox."""

from __future__ import annotations

import requests


def sandbox_env(url: str) -> dict[str, str]:
    """The settings that point the production clients at the sandbox, with its published accounts."""
    accounts = requests.get(f"{url}/_sandbox/accounts", timeout=10).json()
    profile = requests.get(f"{url}/_sandbox/health", timeout=10).json()["profile"]
    env = {
        "OZON_API_URL": f"{url}/ozon",
        "WB_ANALYTICS_API_URL": f"{url}/wb/analytics",
        "WB_MARKETPLACE_API_URL": f"{url}/wb/marketplace",
        "WB_CONTENT_API_URL": f"{url}/wb/content",
        "WB_STATISTICS_API_URL": f"{url}/wb/statistics",
        "WIX_API_URL": f"{url}/wix",
        "WIX_API_KEY": accounts["wix"]["api_key"],
        "WIX_SITE_ID": "site-v1",
        "HAIER_API_URL": f"{url}/haier",
        "HAIER_CLIENT_ID": accounts["haier"]["client_id"],
        "HAIER_CLIENT_SECRET": accounts["haier"]["client_secret"],
        "HAIER_CUSTOMER_CODE": accounts["haier"]["customer_code"],
        "HAIER_SEND_TO_CODE": accounts["haier"]["send_to_code"],
        "HAIER_SUPPLIER_CODE": accounts["haier"]["supplier_code"],
        "HAIER_PASSWORD": accounts["haier"]["password"],
        "HAIER_SELLER_PASSWORD": accounts["haier"]["password"],
        "SELLER_ACCOUNTS": ",".join(accounts["ozon"]),
        # The sandbox delivers its Ozon pushes from this machine.
        "OZON_PUSH_SOURCES": "127.0.0.1/32",
    }
    if profile == "fast":
        env["MARKETPLACE_PACING"] = "none"  # a sandbox without rate limits: no turn to wait for
    for name, creds in accounts["ozon"].items():
        suffix = "" if name == "main" else f"_{name.upper()}"
        env[f"OZON_CLIENT_ID{suffix}"] = creds["client_id"]
        env[f"OZON_API_KEY{suffix}"] = creds["api_key"]
    for name, creds in accounts["wb"].items():
        env[f"WB_API_KEY{'' if name == 'main' else '_' + name.upper()}"] = creds["token"]
    return env
