"""Operational alerts (failed runs, failed checks) without an alert storm: one message per subject
per ``ALERT_WINDOW``; what comes in between is recorded and summarized in the next message."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Engine

from inventory_pipeline.defs.monitoring import store
from inventory_pipeline.resources.notify import NotifierResource

ALERT_WINDOW = timedelta(hours=1)


def operational_alert(
    engine: Engine,
    notifier: NotifierResource,
    event_type: str,
    subject_key: str,
    subject: str,
    text: str,
    payload: dict,
    now: datetime,
    run_id: str,
) -> bool:
    """Send (True) or record as suppressed (False) one alert about ``subject_key``."""
    row = {
        "event_type": event_type,
        "source": "dagster",
        "account": "-",
        "sku": subject_key[:128],
        "stock_type": "-",
        "created_at": now,
        "run_id": run_id,
        "payload": json.dumps(payload, ensure_ascii=False),
    }
    if not store.claim(engine, f"{event_type}:{subject_key}", now, ALERT_WINDOW):
        store.record_notification(engine, {**row, "message": f"{subject}\n{text}", "delivered": "suppressed"})
        return False
    suppressed = store.suppressed_since_last_send(engine, event_type, subject_key[:128])
    if suppressed:
        text += f"\n(and {suppressed} more since the last alert about {subject_key})"
    delivery = notifier.send(subject, text, {**payload, "suppressed_since_last": suppressed})
    store.record_notification(
        engine,
        {
            **row,
            "message": f"{subject}\n{text}",
            "delivered": ",".join(delivery.delivered) or "log",
            "delivery_errors": "; ".join(delivery.errors) or None,
        },
    )
    return True
