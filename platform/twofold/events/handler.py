"""Handling one relayed event in a worker: every subscriber, once.

The event row is locked and ``handled_at`` is set in the same transaction as the
subscribers' writes, so a second delivery of the same event (a sweep after a lost
acknowledgement, a retried job) finds it handled and does nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from flask import current_app

from twofold import jobs
from twofold.auth.permissions import Actor, acting_as
from twofold.db import db, utcnow
from twofold.events.models import OutboxEvent
from twofold.tenancy.scope import tenant_scope

log = logging.getLogger(__name__)

Subscriber = Callable[[OutboxEvent], None]


def subscribers() -> list[Subscriber]:
    """Who reacts to events: the automation engine, outbound webhooks, and test hooks."""
    found: list[Subscriber] = []
    found.extend(current_app.extensions.get("twofold.event_subscribers", ()))
    return found


def handle_event(tenant_hex: str, event_hex: str) -> str:
    app = jobs.worker_app()
    tenant_id, event_id = uuid.UUID(tenant_hex), uuid.UUID(event_hex)
    with app.app_context(), tenant_scope(tenant_id):
        jobs.after_fork()
        try:
            event = db.session.get(OutboxEvent, (tenant_id, event_id), with_for_update=True)
            if event is None:
                return "no such event"
            if event.handled_at is not None:
                return "already handled"
            # Automations act with the company's rights, not the rights of whoever made the change.
            with acting_as(Actor(user_id=None, role="owner", via="automation")):
                for subscriber in subscribers():
                    subscriber(event)
            event.handled_at = utcnow()
            # The relay does not mark what it queued (see outbox): handling is the proof.
            event.dispatched_at = event.dispatched_at or event.handled_at
            event.attempts += 1
            db.session.commit()
            return "handled"
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
