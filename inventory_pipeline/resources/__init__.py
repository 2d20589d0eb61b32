"""One resource per external system; ``build_resources`` wires them for every configured account."""

from __future__ import annotations

import os

from dagster import EnvVar

from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.haier import HaierResource
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.resources.ozon import OzonSellerResource
from inventory_pipeline.resources.wildberries import WildberriesResource
from inventory_pipeline.resources.wix import WixStoresResource
from inventory_pipeline.settings import Settings, credential_var, default_db_url, env_float, env_int


def _url(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _secret(name: str) -> str:
    """An optional secret: through ``EnvVar`` when set, empty (channel off) otherwise."""
    return EnvVar(name) if os.environ.get(name, "").strip() else ""


def build_resources(settings: Settings) -> dict[str, object]:
    """Base URLs and tuning are plain settings; credentials and the database URL are ``EnvVar``s,
    resolved only when a run starts and never printed."""
    timeout = env_float("API_TIMEOUT", 30.0)
    retries = env_int("API_RETRY_COUNT", 3)
    delay = env_float("API_RETRY_DELAY", 5.0)
    resources: dict[str, object] = {
        "database": InventoryDatabase(
            url=EnvVar("INVENTORY_DB_URL") if os.environ.get("INVENTORY_DB_URL") else default_db_url()
        ),
    }
    for account in settings.ozon_accounts:
        client_var, key_var = credential_var("OZON_CLIENT_ID", account), credential_var("OZON_API_KEY", account)
        resources[f"ozon_{account}"] = OzonSellerResource(
            account=account,
            base_url=_url("OZON_API_URL", "https://api-seller.ozon.ru"),
            client_id=EnvVar(client_var),
            api_key=EnvVar(key_var),
            client_id_var=client_var,
            api_key_var=key_var,
            timeout_seconds=timeout,
            retries=retries,
            retry_delay_seconds=delay,
            page_size=env_int("OZON_PAGE_SIZE", 1000),
        )
    for account in settings.wb_accounts:
        key_var = credential_var("WB_API_KEY", account)
        resources[f"wb_{account}"] = WildberriesResource(
            account=account,
            api_key=EnvVar(key_var),
            api_key_var=key_var,
            analytics_url=_url("WB_ANALYTICS_API_URL", "https://seller-analytics-api.wildberries.ru"),
            marketplace_url=_url("WB_MARKETPLACE_API_URL", "https://marketplace-api.wildberries.ru"),
            content_url=_url("WB_CONTENT_API_URL", "https://content-api.wildberries.ru"),
            statistics_url=_url("WB_STATISTICS_API_URL", "https://statistics-api.wildberries.ru"),
            fbw_by_warehouse=settings.wb_fbw_by_warehouse,
            report_wait_seconds=settings.wb_report_wait_seconds,
            timeout_seconds=timeout,
            retries=retries,
            retry_delay_seconds=delay,
        )
    resources["wix"] = WixStoresResource(
        base_url=_url("WIX_API_URL", "https://www.wixapis.com"),
        api_key=EnvVar("WIX_API_KEY"),
        site_id=EnvVar("WIX_SITE_ID"),
        timeout_seconds=timeout,
        retries=retries,
        retry_delay_seconds=delay,
    )
    resources["haier"] = HaierResource(
        base_url=_url("HAIER_API_URL", "https://openplat-bj-aliyun.haier.net"),
        token_path=_url("HAIER_TOKEN_PATH", "/oauth2/auth"),
        client_id=EnvVar("HAIER_CLIENT_ID"),
        client_secret=EnvVar("HAIER_CLIENT_SECRET"),
        customer_code=EnvVar("HAIER_CUSTOMER_CODE"),
        send_to_code=EnvVar("HAIER_SEND_TO_CODE"),
        supplier_code=EnvVar("HAIER_SUPPLIER_CODE"),
        password=EnvVar("HAIER_PASSWORD"),
        seller_password=EnvVar("HAIER_SELLER_PASSWORD"),
        timeout_seconds=timeout,
        retries=retries,
        retry_delay_seconds=delay,
        stock_concurrency=env_int("HAIER_STOCK_CONCURRENCY", 5),
    )
    resources["notifier"] = NotifierResource(
        smtp_host=_url("SMTP_HOST", ""),
        smtp_port=env_int("SMTP_PORT", 587),
        smtp_user=_url("SMTP_USER", ""),
        smtp_password=_secret("SMTP_PASSWORD"),
        smtp_starttls=_url("SMTP_STARTTLS", "1") not in {"0", "false", "no"},
        mail_from=_url("MAIL_FROM", "inventory-pipeline@localhost"),
        alert_email=_url("ALERT_EMAIL", ""),
        telegram_token=_secret("TELEGRAM_BOT_TOKEN"),
        telegram_chat_id=_url("TELEGRAM_CHAT_ID", ""),
        telegram_api_url=_url("TELEGRAM_API_URL", "https://api.telegram.org"),
        webhook_url=_url("NOTIFY_WEBHOOK_URL", ""),
    )
    return resources
