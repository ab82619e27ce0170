"""Webhook subscriptions of a tenant: create (secret shown once), change, remove, list, ping.

The API (``/api/v1/webhooks``) and the settings pages call these functions alike; each
checks the ``integrations.manage`` permission itself.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError

from twofold.auth.permissions import require
from twofold.db import db
from twofold.exceptions import NotFound
from twofold.integrations.delivery import queue_message
from twofold.integrations.models import WebhookDelivery, WebhookSubscription
from twofold.integrations.targets import check_target
from twofold.validation import ValidationError

# The domain events a subscription may pick (an empty choice means every kind).
EVENT_KINDS = (
    "record.created", "record.updated", "record.deleted", "record.restored", "record.merged",
    "field.changed", "stage.changed", "relation.added", "relation.removed",
)


class SubscriptionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    description = fields.String(load_default="", validate=validate.Length(max=200))
    event_kinds = fields.List(fields.String(validate=validate.Length(min=1, max=63)), load_default=list)
    entity_types = fields.List(fields.String(validate=validate.Length(min=1, max=63)), load_default=list)
    enabled = fields.Boolean(load_default=True)


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _load(data: Any, partial: bool = False) -> dict[str, Any]:
    try:
        return SubscriptionSchema().load(data, partial=partial)
    except MarshmallowError as exc:
        raise ValidationError(exc.messages) from None


def to_json(sub: WebhookSubscription, *, with_secret: bool = False) -> dict[str, Any]:
    body = {
        "id": str(sub.id), "url": sub.url, "description": sub.description,
        "event_kinds": sub.event_kinds, "entity_types": sub.entity_types, "enabled": sub.enabled,
        "failure_count": sub.failure_count, "disabled_reason": sub.disabled_reason,
        "created_at": sub.created_at.isoformat(),
    }
    if with_secret:
        body["secret"] = sub.secret
    return body


def create(data: Any) -> WebhookSubscription:
    require("integrations.manage")
    clean = _load(data)
    check_target(clean["url"])
    sub = WebhookSubscription(secret=new_secret(), **clean)
    db.session.add(sub)
    db.session.flush()
    return sub


def get(sub_id: uuid.UUID) -> WebhookSubscription:
    require("integrations.manage")
    sub = db.session.scalar(db.select(WebhookSubscription).where(WebhookSubscription.id == sub_id))
    if sub is None:
        raise NotFound("webhook subscription")
    return sub


def update(sub_id: uuid.UUID, data: Any) -> WebhookSubscription:
    sub = get(sub_id)
    clean = _load(data, partial=True)
    if "url" in clean:
        check_target(clean["url"])
    for key, value in clean.items():
        setattr(sub, key, value)
    if clean.get("enabled"):  # re-enabling starts a fresh count
        sub.failure_count, sub.disabled_reason = 0, None
    return sub


def set_enabled(sub_id: uuid.UUID, enabled: bool) -> WebhookSubscription:
    return update(sub_id, {"enabled": enabled})


def delete(sub_id: uuid.UUID) -> None:
    db.session.delete(get(sub_id))


def ping(sub_id: uuid.UUID) -> str:
    """Queue a ``webhook.ping`` message (sent after the caller commits); returns its id."""
    sub = get(sub_id)
    message_id = f"msg_ping_{uuid.uuid4().hex}"
    queue_message(sub.id, message_id, "webhook.ping", {"subscription_id": str(sub.id)})
    return message_id


def all_subscriptions() -> list[WebhookSubscription]:
    require("integrations.manage")
    return list(db.session.scalars(db.select(WebhookSubscription).order_by(WebhookSubscription.created_at)))


def deliveries(sub_id: uuid.UUID, limit: int = 100) -> list[WebhookDelivery]:
    get(sub_id)
    return list(
        db.session.scalars(
            db.select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == sub_id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.attempt.desc())
            .limit(limit)
        )
    )


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(row.id), "message_id": row.message_id, "event_kind": row.event_kind,
        "attempt": row.attempt, "status_code": row.status_code, "duration_ms": row.duration_ms,
        "error": row.error, "succeeded": row.succeeded,
        "next_retry_at": row.next_retry_at.isoformat() if row.next_retry_at else None,
        "created_at": row.created_at.isoformat(),
    }
