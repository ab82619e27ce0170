"""Automation rules, their runs and each action's run."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from twofold.db import TenantScoped, db, utcnow


class Rule(TenantScoped, db.Model):
    __tablename__ = "automation_rules"
    __table_args__ = (Index(None, "tenant_id", "enabled"),)

    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    entity_type: Mapped[str] = mapped_column(String(63), default="")
    # {"type": "event", "event": "record.created", "filters": {...}} | {"type": "no_activity",
    # "minutes": N} | {"type": "delay", "event": ..., "minutes": N} | {"type": "schedule", ...}
    trigger: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    template_key: Mapped[str | None] = mapped_column(String(127))
    pack: Mapped[str] = mapped_column(String(63), default="")
    # Round-robin position of assign_owner, per rule.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleRun(TenantScoped, db.Model):
    __tablename__ = "automation_runs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["automation_rules.tenant_id", "automation_rules.id"],
            ondelete="CASCADE",
        ),
        # One trigger (an event, a quiet spell of a record) fires a rule once.
        UniqueConstraint("tenant_id", "rule_id", "trigger_key"),
        Index(None, "tenant_id", "rule_id", "started_at"),
    )

    rule_id: Mapped[uuid.UUID]
    trigger_key: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[uuid.UUID | None]
    entity_type: Mapped[str] = mapped_column(String(63), default="")
    record_id: Mapped[uuid.UUID | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, ok, failed, skipped


class ActionRun(TenantScoped, db.Model):
    __tablename__ = "automation_action_runs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "run_id"], ["automation_runs.tenant_id", "automation_runs.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "run_id", "index"),
    )

    run_id: Mapped[uuid.UUID]
    index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(20))  # ok, failed, skipped
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
