"""The event subscriber that turns a tenant's events into webhook deliveries."""

from __future__ import annotations

from typing import Any

from twofold.db import db
from twofold.events.models import OutboxEvent
from twofold.integrations.delivery import queue_message
from twofold.integrations.models import WebhookSubscription


def matches(sub: WebhookSubscription, event: OutboxEvent) -> bool:
    if sub.event_kinds and event.kind not in sub.event_kinds:
        return False
    return not sub.entity_types or event.entity_type in sub.entity_types


def event_data(event: OutboxEvent) -> dict[str, Any]:
    return {
        "event_id": str(event.id),
        "entity_type": event.entity_type,
        "record_id": str(event.record_id) if event.record_id else None,
        "occurred_at": event.created_at.isoformat() if event.created_at else None,
        **(event.payload or {}),
    }


def on_event(event: OutboxEvent) -> None:
    """Subscriber for :mod:`twofold.events.handler`: one delivery job per matching subscription.

    The jobs are queued after the handler's commit, the one that marks the event handled, so a
    re-delivered event queues nothing a second time.
    """
    subs = db.session.scalars(db.select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True)))
    for sub in subs:
        if matches(sub, event):
            queue_message(sub.id, f"msg_{event.id.hex}", event.kind, event_data(event))


def install(app: Any) -> None:
    app.extensions.setdefault("twofold.event_subscribers", []).append(on_event)
