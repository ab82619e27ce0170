"""The outbox: every domain event, written in the same transaction as the change it reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from twofold.db import TenantScoped, db, utcnow


class OutboxEvent(TenantScoped, db.Model):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index(None, "tenant_id", "record_id", "created_at"),
        # The sweep looks only at what is not yet relayed; the partial index stays tiny.
        Index(
            "ix_outbox_events_pending",
            "tenant_id",
            "created_at",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(63))
    entity_type: Mapped[str | None] = mapped_column(String(63))
    record_id: Mapped[uuid.UUID | None]
    actor_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set once the event is on a Redis queue; the sweep re-sends events left without it.
    dispatched_at: Mapped[datetime | None]
    # Set by the handler in the transaction of its effects: a second delivery sees it and stops.
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
