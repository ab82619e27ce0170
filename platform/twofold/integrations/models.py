"""Tables of the integrations: webhook subscriptions and deliveries, inbound endpoints,
idempotency keys and per-tenant connector settings. All tenant-owned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from twofold.db import TenantScoped, db, utcnow


class WebhookSubscription(TenantScoped, db.Model):
    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind
    entity_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every type
    enabled: Mapped[bool] = mapped_column(default=True)
    secret: Mapped[str] = mapped_column(String(200))  # whsec_..., shown once
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(TenantScoped, db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["webhook_subscriptions.tenant_id", "webhook_subscriptions.id"],
            ondelete="CASCADE",
        ),
        Index(None, "tenant_id", "subscription_id", "created_at"),
    )

    subscription_id: Mapped[uuid.UUID]
    message_id: Mapped[str] = mapped_column(String(80))  # webhook-id: the same on every attempt
    event_kind: Mapped[str] = mapped_column(String(63))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status_code: Mapped[int | None]
    duration_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    succeeded: Mapped[bool] = mapped_column(default=False)
    next_retry_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundEndpoint(TenantScoped, db.Model):
    """A way in: ``kind`` "form" (an embeddable web form) or "hook" (signed JSON)."""

    __tablename__ = "inbound_endpoints"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(64))  # the form key in /f/<slug>/<key>
    entity_type: Mapped[str] = mapped_column(String(63))
    # Which record field each incoming name fills: {"name": "first_name", "utm_source": ...}
    field_map: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    id_field: Mapped[str | None] = mapped_column(String(63))  # the sender's own id, for dedupe
    secret: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(TenantScoped, db.Model):
    """One accepted inbound request; a repeat with the same key answers with ``result``."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "endpoint", "key"),)

    endpoint: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorSettings(TenantScoped, db.Model):
    __tablename__ = "connector_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "connector"),)

    connector: Mapped[str] = mapped_column(String(63))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the non-secret values
    secrets: Mapped[str | None] = mapped_column(Text)  # Fernet token of a JSON object
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
