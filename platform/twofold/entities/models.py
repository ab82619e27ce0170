"""Tables of the entity engine: one generic records table, relations, timeline, custom fields.

Records keep what engines aggregate on in typed columns (title, owner, pipeline, stage,
amount, currency, status, timestamps, soft delete) and the rest in a JSON document.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from twofold.db import TenantScoped, db, utcnow


class Record(TenantScoped, db.Model):
    __tablename__ = "records"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "pipeline_id"], ["pipelines.tenant_id", "pipelines.id"]),
        ForeignKeyConstraint(["tenant_id", "stage_id"], ["stages.tenant_id", "stages.id"]),
        Index(None, "tenant_id", "entity_type", "id"),
        Index(None, "tenant_id", "entity_type", "title"),
        Index(None, "tenant_id", "entity_type", "updated_at"),
        Index(None, "tenant_id", "entity_type", "amount"),
        Index(None, "tenant_id", "pipeline_id", "stage_id"),
    )

    entity_type: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(500), default="")
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pipeline_id: Mapped[uuid.UUID | None]
    stage_id: Mapped[uuid.UUID | None]
    stage_entered_at: Mapped[datetime | None]
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Lower-cased text of the searchable fields, for full-text search on every backend.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None]
    merged_into: Mapped[uuid.UUID | None]


class Relation(TenantScoped, db.Model):
    """``from_id`` plays nothing; ``to_id`` plays ``role`` for it (a deal's signer)."""

    __tablename__ = "relations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "from_id"], ["records.tenant_id", "records.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "to_id"], ["records.tenant_id", "records.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "from_id", "to_id", "role"),
        Index(None, "tenant_id", "to_id"),
    )

    from_id: Mapped[uuid.UUID]
    to_id: Mapped[uuid.UUID]
    role: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Activity(TenantScoped, db.Model):
    """One line of a record's timeline: who did what, when, and which fields changed."""

    __tablename__ = "activities"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "record_id"], ["records.tenant_id", "records.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "record_id", "at"),
    )

    record_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    # {"field": [old, new], ...} for updates; free-form detail for other kinds.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CustomField(TenantScoped, db.Model):
    """A field a tenant admin added to an entity type at run time."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("tenant_id", "entity_type", "name"),)

    entity_type: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(63))
    label: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    unique: Mapped[bool] = mapped_column(Boolean, default=False)
    indexed: Mapped[bool] = mapped_column(Boolean, default=False)
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    default: Mapped[Any] = mapped_column(JSON, nullable=True)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    reference: Mapped[str | None] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
