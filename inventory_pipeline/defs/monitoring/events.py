"""Stock events: de-duplicated in the database (so it survives restarts and concurrent runs),
stored in ``notifications``, and delivered through the notifier."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from inventory_pipeline.defs.monitoring import store
from inventory_pipeline.resources.notify import Delivery, NotifierResource

DEDUPE_WINDOW = timedelta(hours=15)  # the Stock Service's Redis TTL


@dataclass
class StockEvent:
    event_type: str
    source: str
    account: str
    sku: str
    stock_type: str
    figures: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.event_type}:{self.source}:{self.account}:{self.sku}:{self.stock_type}"[:255]

    def message(self, ui_url: str) -> tuple[str, str]:
        figures = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.figures.items())
        subject = f"{self.event_type}: {self.sku} ({self.source}/{self.account}, {self.stock_type})"
        return subject, f"{figures}\n{ui_url.rstrip('/')}/assets/inventory_data"


def emit(
    engine: Engine, notifier: NotifierResource, event: StockEvent, now: datetime, run_id: str, ui_url: str
) -> Delivery | None:
    """Store and deliver one event unless it was raised within the window: how it was delivered
    (no channel, or every channel failed: delivered to nobody, recorded), or None when held back."""
    if not store.claim(engine, event.key, now, DEDUPE_WINDOW):
        return None
    subject, text = event.message(ui_url)
    payload = {
        "event": event.event_type,
        "source": event.source,
        "account": event.account,
        "sku": event.sku,
        "stock_type": event.stock_type,
        **event.figures,
        "at": now.isoformat() + "Z",
    }
    delivery = notifier.send(subject, text, payload)
    store.record_notification(
        engine,
        {
            "event_type": event.event_type,
            "source": event.source,
            "account": event.account,
            "sku": event.sku,
            "stock_type": event.stock_type,
            "message": f"{subject}\n{text}",
            "payload": json.dumps(payload, ensure_ascii=False),
            "created_at": now,
            "run_id": run_id,
            "delivered": ",".join(delivery.delivered) or "log",
            "delivery_errors": "; ".join(delivery.errors) or None,
        },
    )
    return delivery
