"""Settings that shape the pipeline's definitions, read once from the environment (and ``.env``).

Secrets are not read here: resources receive them through ``dagster.EnvVar``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_STOCK_VALUE = 10_000  # units in one ledger row above which the anomaly checks flag it, by default
load_dotenv(PROJECT_ROOT / ".env", override=False)

WB_SKU_RULES = ("article_size", "barcode")  # defs/stock/wb_sku.py says what each makes
_ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


def _at_least(name: str, value: float, minimum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")


def _text(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def _set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def env_int(name: str, default: int, minimum: int | None = 0) -> int:
    """A whole-number setting; counts, days and quantities are never negative."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    _at_least(name, value, minimum)
    return value


def env_float(name: str, default: float, minimum: float | None = 0) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    _at_least(name, value, minimum)
    return value


def _names(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    names = [n.strip().lower() for n in raw.split(",") if n.strip()] if raw else default
    for n in names:
        if not _ACCOUNT_NAME.match(n):
            raise SettingsError(
                f"{name}: account name {n!r} must be lower-case letters, digits or _, starting with a letter"
            )
    return names


def _pairs(name: str, kind: type) -> dict:
    """``a=1,b=2`` → {"a": 1, "b": 2}; the message names the variable when a pair is malformed."""
    out = {}
    for part in filter(None, (p.strip() for p in os.environ.get(name, "").split(","))):
        key, sep, value = part.rpartition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            out[key.strip()] = kind(value.strip())
        except ValueError:
            raise SettingsError(f"{name}: expected KEY=VALUE pairs separated by commas, got {part!r}") from None
        if kind is int:
            _at_least(f"{name} ({key.strip()})", out[key.strip()], 0)
    return out


def _counties() -> list[str]:
    raw = _text("HAIER_COUNTY_CODES", "110101")
    codes = [c.strip() for c in raw.split(",") if c.strip()]
    for code in codes:
        if len(code) != 6 or not code.isdigit():
            raise SettingsError(f"HAIER_COUNTY_CODES: {code!r} is not a 6-digit county code (GB/T 2260)")
    return codes


def default_db_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'inventory.db'}"


def database_url() -> str:
    """INVENTORY_DB_URL, or the embedded SQLite file."""
    return _text("INVENTORY_DB_URL", default_db_url())


API_URLS = {
    "OZON_API_URL": "https://api-seller.ozon.ru",
    "WB_ANALYTICS_API_URL": "https://seller-analytics-api.wildberries.ru",
    "WB_MARKETPLACE_API_URL": "https://marketplace-api.wildberries.ru",
    "WB_CONTENT_API_URL": "https://content-api.wildberries.ru",
    "WB_STATISTICS_API_URL": "https://statistics-api.wildberries.ru",
    "WIX_API_URL": "https://www.wixapis.com",
    "HAIER_API_URL": "https://openplat-bj-aliyun.haier.net",
    "HAIER_TOKEN_PATH": "/oauth2/auth",
    "TELEGRAM_API_URL": "https://api.telegram.org",
}


@dataclass(frozen=True)
class Connections:
    """How the clients reach their APIs. Plain settings: credentials stay ``EnvVar``s (resources)."""

    urls: dict[str, str]  # API_URLS' names → the configured URL
    timeout: float
    retries: int
    retry_delay: float
    ozon_page_size: int
    haier_stock_concurrency: int
    paced: bool  # MARKETPLACE_PACING: each client waits for its turn under the published rate limits
    database_url_set: bool  # INVENTORY_DB_URL given (an EnvVar then), else the embedded SQLite file


@dataclass(frozen=True)
class Channels:
    """Where notifications go; a channel is on when its settings are present."""

    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password_set: bool
    smtp_starttls: bool
    mail_from: str
    alert_email: str
    telegram_token_set: bool
    telegram_chat_id: str
    webhook_url: str

    @property
    def any(self) -> bool:
        return bool(
            (self.smtp_host and self.alert_email)
            or (self.telegram_token_set and self.telegram_chat_id)
            or self.webhook_url
        )


def _connections() -> Connections:
    return Connections(
        urls={name: _text(name, default) for name, default in API_URLS.items()},
        timeout=env_float("API_TIMEOUT", 30.0),
        retries=env_int("API_RETRY_COUNT", 3),
        retry_delay=env_float("API_RETRY_DELAY", 5.0),
        ozon_page_size=env_int("OZON_PAGE_SIZE", 1000),
        haier_stock_concurrency=env_int("HAIER_STOCK_CONCURRENCY", 5),
        # "none" only for a sandbox without limits (its fast profile): real APIs penalize a client
        # that keeps hitting them.
        paced=_choice("MARKETPLACE_PACING", "published", ("published", "none")) == "published",
        database_url_set=_set("INVENTORY_DB_URL"),
    )


def _channels() -> Channels:
    return Channels(
        smtp_host=_text("SMTP_HOST"),
        smtp_port=env_int("SMTP_PORT", 587),
        smtp_user=_text("SMTP_USER"),
        smtp_password_set=_set("SMTP_PASSWORD"),
        smtp_starttls=_flag("SMTP_STARTTLS", True),
        mail_from=_text("MAIL_FROM", "inventory-pipeline@localhost"),
        alert_email=_text("ALERT_EMAIL"),
        telegram_token_set=_set("TELEGRAM_BOT_TOKEN"),
        telegram_chat_id=_text("TELEGRAM_CHAT_ID"),
        webhook_url=_text("NOTIFY_WEBHOOK_URL"),
    )


@dataclass(frozen=True)
class Settings:
    ozon_accounts: list[str]
    wb_accounts: list[str]
    wb_fbw_by_warehouse: bool
    wb_report_wait_seconds: float
    wb_sku_rule: str
    wb_sku_separator: str
    wb_sku_map_file: str
    timezone: str
    min_products_threshold: int
    max_snapshot_drop: float
    max_part_drop: float
    freshness_check_seconds: int
    schedule_crons: dict[str, str]
    max_sync_age_hours: float
    max_stock_value: int
    schedules_running: bool
    wix_site_configured: bool
    wix_stock_types: tuple[str, ...]
    wix_warehouse_map: dict[str, str]
    wix_buffer: int
    wix_sku_buffers: dict[str, int]
    wix_cap: int | None
    wix_max_zero_share: float
    wix_max_total_change: float
    haier_configured: bool
    haier_account: str
    haier_counties: tuple[str, ...]
    media_dir: str
    image_max_bytes: int
    image_timeout_seconds: float
    sales_start_date: str
    sales_window_days: int
    analysis_period_days: int
    absolute_new_days: int
    new_product_days: int
    low_stock_days_ordinary: float
    low_stock_days_new: float
    fbo_threshold: int
    ui_url: str
    asset_owners: list[str]
    anomaly_threshold: float
    anomaly_min_units: int
    anomaly_error_count: int
    anomaly_collapse_share: float
    backup_dir: str
    backup_keep_days: int
    history_retention_days: int
    snapshot_retention_days: int
    report_dir: str
    fast_path: bool
    signals_interval_seconds: int
    ozon_poll_seconds: int
    wb_status_poll_seconds: int
    ozon_push_sources: tuple
    ozon_push_trusted_proxies: tuple
    connections: Connections
    channels: Channels

    @property
    def database_kind(self) -> str:
        """``mysql`` or ``sqlite``: what INVENTORY_DB_URL names (the assets' kind in the UI)."""
        return "mysql" if database_url().startswith(("mysql", "mariadb")) else "sqlite"

    @property
    def accounts(self) -> list[str]:
        """Every seller account (legal entity): the partitions of the stock assets."""
        return sorted(set(self.ozon_accounts) | set(self.wb_accounts), key=lambda n: (n != "main", n))


def _crons() -> dict[str, str]:
    """``SCHEDULE_CRONS="health_check_hourly=*/5 * * * *;stock_sync_every_6h=0 */3 * * *"``: a schedule's
    cron replaced (``;`` between pairs, as a cron may hold commas)."""
    out = {}
    for part in filter(None, (p.strip() for p in os.environ.get("SCHEDULE_CRONS", "").split(";"))):
        name, sep, cron = part.partition("=")
        if not sep or not name.strip() or len(cron.split()) != 5:
            raise SettingsError(f"SCHEDULE_CRONS: expected name=<5-field cron> pairs separated by ';', got {part!r}")
        out[name.strip()] = cron.strip()
    return out


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in {"1", "true", "yes", "0", "false", "no"}:
        raise SettingsError(f"{name} must be true or false, got {value!r}")
    return value in {"1", "true", "yes"}


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _text(name, default)
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _owners(name: str, default: str) -> list[str]:
    """Who answers for the assets, as Dagster shows owners: e-mail addresses or ``team:<name>``."""
    owners = [o.strip() for o in (os.environ.get(name) or default).split(",") if o.strip()]
    wrong = [o for o in owners if not (o.startswith("team:") and len(o) > 5) and "@" not in o]
    if wrong:
        raise SettingsError(f"{name} lists e-mail addresses or team:<name> entries, got {', '.join(wrong)}")
    return owners


def _share(name: str, default: float, positive: bool = False) -> float:
    """A guard's share: below 1 (a share of 1 or more switches the guard off; 25 % is written 0.25)."""
    value = env_float(name, default)
    if not (0 < value < 1 if positive else 0 <= value < 1):
        raise SettingsError(f"{name} must be a share below 1 (0.25 for 25 %), got {value:g}")
    return value


# What a ledger row's stock type can be (defs/stock/normalize.py, the Haier sync): the Wix push counts these.
def _ratio(name: str, default: float, most: float) -> float:
    """A guard's ratio that may pass 1 (a total may triple) but not ``most``: a percentage typed
    where a ratio belongs (50 meant as 50 %) would switch the guard off."""
    value = env_float(name, default)
    if not 0 <= value <= most:
        raise SettingsError(f"{name} must be a ratio from 0 to {most:g} (0.5 for 50 %), got {value:g}")
    return value


# The networks Ozon publishes as the source of its push notifications.
OZON_PUSH_NETWORKS = "195.34.21.0/24,185.73.192.0/22,91.223.93.0/24"


def _networks(name: str, default: str) -> tuple:
    """Comma-separated networks (``10.0.0.0/8,127.0.0.1/32``)."""
    out = []
    for part in filter(None, (p.strip() for p in (os.environ.get(name, "").strip() or default).split(","))):
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(f"{name}: {part!r} is no network (write 195.34.21.0/24 or 127.0.0.1/32)") from None
    return tuple(out)


LEDGER_STOCK_TYPES = ("fbs", "rfbs", "fbo", "fbp", "fbw", "supplier")


def _stock_types(name: str, default: list[str]) -> tuple[str, ...]:
    types = _names(name, default)
    unknown = [t for t in types if t not in LEDGER_STOCK_TYPES]
    if unknown or not types:
        raise SettingsError(
            f"{name}: {', '.join(unknown) or 'nothing'} is no stock type; use {', '.join(LEDGER_STOCK_TYPES)}"
        )
    return tuple(types)


def load_settings() -> Settings:
    seller = _names("SELLER_ACCOUNTS", ["main"])
    drop = _share("MAX_SNAPSHOT_DROP", 0.5, positive=True)
    return Settings(
        ozon_accounts=_names("OZON_ACCOUNTS", seller),
        wb_accounts=_names("WB_ACCOUNTS", seller),
        wb_fbw_by_warehouse=_flag("WB_FBW_BY_WAREHOUSE", True),
        wb_report_wait_seconds=env_float("WB_REPORT_WAIT_SECONDS", 300.0),
        wb_sku_rule=_choice("WB_SKU_RULE", "article_size", WB_SKU_RULES),
        wb_sku_separator=os.environ.get("WB_SKU_SEPARATOR", "-") or "-",
        wb_sku_map_file=_text("WB_SKU_MAP_FILE"),
        timezone=os.environ.get("PIPELINE_TIMEZONE", "Europe/Moscow").strip() or "Europe/Moscow",
        min_products_threshold=env_int("MIN_PRODUCTS_THRESHOLD", 10),
        max_snapshot_drop=drop,
        max_part_drop=_share("MAX_PART_DROP", 0.25, positive=True),
        freshness_check_seconds=env_int("FRESHNESS_CHECK_SECONDS", 900, minimum=1),
        schedule_crons=_crons(),
        max_sync_age_hours=env_float("MAX_SYNC_AGE_HOURS", 8, minimum=0.1),
        max_stock_value=env_int("MAX_STOCK_VALUE", MAX_STOCK_VALUE),
        schedules_running=_flag("SCHEDULES_RUNNING", True),
        wix_site_configured=bool(os.environ.get("WIX_SITE_ID", "").strip()),
        wix_stock_types=_stock_types("WIX_STOCK_TYPES", ["fbs", "rfbs"]),
        wix_warehouse_map=_pairs("WIX_WAREHOUSE_MAP", str),
        wix_buffer=env_int("WIX_SAFETY_BUFFER", 0),
        wix_sku_buffers=_pairs("WIX_SKU_BUFFERS", int),
        wix_cap=env_int("WIX_MAX_QUANTITY", -1) if os.environ.get("WIX_MAX_QUANTITY", "").strip() else None,
        wix_max_zero_share=_share("WIX_MAX_ZERO_SHARE", 0.25),
        wix_max_total_change=_ratio("WIX_MAX_TOTAL_CHANGE", 0.5, most=10.0),
        haier_configured=bool(os.environ.get("HAIER_CLIENT_ID", "").strip()),
        haier_account=(_names("HAIER_ACCOUNT", ["haier"]) or ["haier"])[0],
        haier_counties=tuple(_counties()),
        media_dir=_text("MEDIA_DIR", str(PROJECT_ROOT / "data" / "media")),
        image_max_bytes=env_int("IMAGE_MAX_BYTES", 5 * 1024 * 1024),
        image_timeout_seconds=env_float("IMAGE_TIMEOUT", 30.0),
        sales_start_date=os.environ.get("SALES_START_DATE", "").strip()
        or (date.today() - timedelta(days=90)).isoformat(),
        sales_window_days=env_int("SALES_WINDOW_DAYS", 14, minimum=1),
        analysis_period_days=env_int("ANALYSIS_PERIOD_DAYS", 30, minimum=1),
        absolute_new_days=env_int("ABSOLUTE_NEW_DAYS", 14),
        new_product_days=env_int("NEW_PRODUCT_DAYS", 30),
        low_stock_days_ordinary=env_float("LOW_STOCK_DAYS_ORDINARY", 12.2),
        low_stock_days_new=env_float("LOW_STOCK_DAYS_NEW", 6.2),
        fbo_threshold=env_int("FBO_THRESHOLD", 10),
        # Links in alerts point where `make ui` serves the UI unless production names its own address.
        ui_url=_text("DAGSTER_UI_URL", f"http://127.0.0.1:{env_int('DAGSTER_PORT', 3000, minimum=1)}"),
        asset_owners=_owners("ASSET_OWNERS", "team:stock-operations"),
        anomaly_threshold=env_float("ANOMALY_THRESHOLD", 0.1),
        anomaly_min_units=env_int("ANOMALY_MIN_UNITS", 5),
        anomaly_error_count=env_int("ANOMALY_ERROR_COUNT", 100, minimum=1),
        anomaly_collapse_share=_share("ANOMALY_COLLAPSE_SHARE", 0.3, positive=True),
        backup_dir=_text("BACKUP_DIR", str(PROJECT_ROOT / "data" / "backups")),
        backup_keep_days=env_int("BACKUP_KEEP_DAYS", 7, minimum=1),
        history_retention_days=env_int("HISTORY_RETENTION_DAYS", 180, minimum=1),
        snapshot_retention_days=env_int("SNAPSHOT_RETENTION_DAYS", 14, minimum=1),
        report_dir=_text("REPORT_DIR", str(PROJECT_ROOT / "data" / "reports")),
        fast_path=_flag("FAST_PATH", True),
        signals_interval_seconds=env_int("SIGNALS_INTERVAL_SECONDS", 10, minimum=1),
        ozon_poll_seconds=env_int("OZON_UNFULFILLED_POLL_SECONDS", 60, minimum=1),
        wb_status_poll_seconds=env_int("WB_ORDER_STATUS_POLL_SECONDS", 60, minimum=1),
        ozon_push_sources=_networks("OZON_PUSH_SOURCES", OZON_PUSH_NETWORKS),
        ozon_push_trusted_proxies=_networks("OZON_PUSH_TRUSTED_PROXIES", "127.0.0.1/32,::1/128"),
        connections=_connections(),
        channels=_channels(),
    )


def credential_var(base: str, account: str) -> str:
    """The environment variable holding ``base`` for an account: ``OZON_API_KEY`` for ``main``,
    ``OZON_API_KEY_SECOND`` for ``second``."""
    return base if account == "main" else f"{base}_{account.upper()}"
