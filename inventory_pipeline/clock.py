"""The one marketplace clock. Ozon and Wildberries date orders, sales and reports in Moscow time
whatever the seller's own zone (``PIPELINE_TIMEZONE`` only times the schedules), so a marketplace
day is a Moscow calendar day; the database stores naive UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MARKETPLACE_ZONE = ZoneInfo("Europe/Moscow")


def utcnow() -> datetime:
    """Naive UTC, the way every time is stored in the inventory database."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def marketplace_today(now: datetime | None = None) -> date:
    """Today's marketplace day; ``now`` is naive UTC."""
    return (now or utcnow()).replace(tzinfo=UTC).astimezone(MARKETPLACE_ZONE).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A marketplace day as an aware UTC interval [start, end)."""
    start = datetime(day.year, day.month, day.day, tzinfo=MARKETPLACE_ZONE).astimezone(UTC)
    return start, start + timedelta(days=1)


def utc_from_marketplace(text: str) -> datetime:
    """A marketplace's local timestamp (``2026-11-20T14:05:00``) as naive UTC."""
    local = datetime.fromisoformat(text[:19]).replace(tzinfo=MARKETPLACE_ZONE)
    return local.astimezone(UTC).replace(tzinfo=None)
