"""One resource per external system; ``build_resources`` wires them for every configured account."""

from __future__ import annotations

from dagster import EnvVar

from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.haier import HaierResource
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.resources.ozon import OzonSellerResource
from inventory_pipeline.resources.wildberries import WildberriesResource
from inventory_pipeline.resources.wix import WixStoresResource
from inventory_pipeline.settings import Settings, credential_var, default_db_url


def _secret(name: str, is_set: bool) -> EnvVar | str:
    """An optional secret: through ``EnvVar`` when set, empty (channel off) otherwise."""
    return EnvVar(name) if is_set else ""


def client_key(source: str, account: str) -> str:
    """The resource key of one seller account's marketplace client (``ozon_main``, ``wb_second``)."""
    return f"{source}_{account}"


def build_resources(settings: Settings) -> dict[str, object]:
    """Base URLs and tuning are plain settings; credentials and the database URL are ``EnvVar``s,
    resolved only when a run starts and never printed."""
    net, urls, notify = settings.connections, settings.connections.urls, settings.channels
    timeout, retries, delay = net.timeout, net.retries, net.retry_delay
    database_url = EnvVar("INVENTORY_DB_URL") if net.database_url_set else default_db_url()
    resources: dict[str, object] = {"database": InventoryDatabase(url=database_url)}
    for account in settings.ozon_accounts:
        client_var, key_var = credential_var("OZON_CLIENT_ID", account), credential_var("OZON_API_KEY", account)
        resources[client_key("ozon", account)] = OzonSellerResource(
            account=account,
            base_url=urls["OZON_API_URL"],
            client_id=EnvVar(client_var),
            api_key=EnvVar(key_var),
            client_id_var=client_var,
            api_key_var=key_var,
            timeout_seconds=timeout,
            retries=retries,
            retry_delay_seconds=delay,
            page_size=net.ozon_page_size,
            paced=net.paced,
            pacing_store=database_url,
        )
    for account in settings.wb_accounts:
        key_var = credential_var("WB_API_KEY", account)
        resources[client_key("wb", account)] = WildberriesResource(
            account=account,
            api_key=EnvVar(key_var),
            api_key_var=key_var,
            analytics_url=urls["WB_ANALYTICS_API_URL"],
            marketplace_url=urls["WB_MARKETPLACE_API_URL"],
            content_url=urls["WB_CONTENT_API_URL"],
            statistics_url=urls["WB_STATISTICS_API_URL"],
            fbw_by_warehouse=settings.wb_fbw_by_warehouse,
            report_wait_seconds=settings.wb_report_wait_seconds,
            timeout_seconds=timeout,
            retries=retries,
            retry_delay_seconds=delay,
            paced=net.paced,
            pacing_store=database_url,
        )
    resources["wix"] = WixStoresResource(
        base_url=urls["WIX_API_URL"],
        api_key=EnvVar("WIX_API_KEY"),
        site_id=EnvVar("WIX_SITE_ID"),
        timeout_seconds=timeout,
        retries=retries,
        retry_delay_seconds=delay,
        paced=net.paced,
        pacing_store=database_url,
    )
    resources["haier"] = HaierResource(
        base_url=urls["HAIER_API_URL"],
        token_path=urls["HAIER_TOKEN_PATH"],
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
        stock_concurrency=net.haier_stock_concurrency,
    )
    resources["notifier"] = NotifierResource(
        smtp_host=notify.smtp_host,
        smtp_port=notify.smtp_port,
        smtp_user=notify.smtp_user,
        smtp_password=_secret("SMTP_PASSWORD", notify.smtp_password_set),
        smtp_starttls=notify.smtp_starttls,
        mail_from=notify.mail_from,
        alert_email=notify.alert_email,
        telegram_token=_secret("TELEGRAM_BOT_TOKEN", notify.telegram_token_set),
        telegram_chat_id=notify.telegram_chat_id,
        telegram_api_url=urls["TELEGRAM_API_URL"],
        webhook_url=notify.webhook_url,
    )
    return resources
