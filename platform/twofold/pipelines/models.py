"""Pipelines, stages and the stage history every move writes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from twofold.db import TenantScoped, db, utcnow


class Pipeline(TenantScoped, db.Model):
    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(String(63))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    pack: Mapped[str] = mapped_column(String(63), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Stage(TenantScoped, db.Model):
    __tablename__ = "stages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "pipeline_id"], ["pipelines.tenant_id", "pipelines.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "pipeline_id", "key"),
    )

    pipeline_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="open")
    probability: Mapped[int] = mapped_column(Integer, default=0)
    # {"fields": [...], "relations": [{"role", "where", "message"}], "reason": bool}
    requirements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stall_days: Mapped[int | None]


class StageChange(TenantScoped, db.Model):
    """One move of a record: from, to, who, when, and whether an admin overrode a gate."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "record_id"], ["records.tenant_id", "records.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "pipeline_id"], ["pipelines.tenant_id", "pipelines.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "from_stage_id"], ["stages.tenant_id", "stages.id"]),
        ForeignKeyConstraint(["tenant_id", "to_stage_id"], ["stages.tenant_id", "stages.id"]),
        Index(None, "tenant_id", "record_id", "at"),
        Index(None, "tenant_id", "pipeline_id", "at"),
    )

    record_id: Mapped[uuid.UUID]
    pipeline_id: Mapped[uuid.UUID]
    from_stage_id: Mapped[uuid.UUID | None]
    to_stage_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))
    override: Mapped[bool] = mapped_column(Boolean, default=False)
