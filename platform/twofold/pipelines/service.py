"""The one service that moves records between stages.

The API, the board, automations and imports all call :func:`move`, so a stage's entry
requirements hold on every path. An admin may override a refused move; the override is
explicit, needs a reason, and is written to the stage history and the security log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from twofold.auth import security_log
from twofold.auth.permissions import current_actor, require
from twofold.db import db, utcnow
from twofold.entities import service as records
from twofold.entities.models import Record, Relation
from twofold.entities.schemas import blank
from twofold.exceptions import Conflict, NotFound
from twofold.packs import registry
from twofold.pipelines.models import Pipeline, Stage, StageChange
from twofold.tenancy.scope import current_tenant_id


class PipelineNotFound(NotFound):
    pass


@dataclass(frozen=True)
class Unmet:
    """One requirement the target stage has that the record does not meet."""

    kind: str  # field, relation, reason
    name: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "message": self.message}


class MoveRefused(Conflict):
    def __init__(self, stage: Stage, unmet: list[Unmet]) -> None:
        super().__init__(
            f"The record cannot enter {stage.name} yet.",
            stage=stage.key,
            unmet=[u.as_dict() for u in unmet],
        )
        self.unmet = unmet


def pipelines_for(entity_type: str) -> list[Pipeline]:
    registry.entity_type(entity_type)
    return list(
        db.session.scalars(
            db.select(Pipeline)
            .where(Pipeline.entity_type == entity_type)
            .order_by(Pipeline.is_default.desc(), Pipeline.name)
        )
    )


def all_pipelines() -> list[Pipeline]:
    types = registry.current().entity_types
    rows = db.session.scalars(db.select(Pipeline).order_by(Pipeline.name))
    return [p for p in rows if p.entity_type in types]


def get_pipeline(pipeline_id: uuid.UUID) -> Pipeline:
    pipeline = db.session.get(Pipeline, (current_tenant_id(), pipeline_id))
    if pipeline is None or pipeline.entity_type not in registry.current().entity_types:
        raise PipelineNotFound(str(pipeline_id))
    return pipeline


def stages(pipeline: Pipeline) -> list[Stage]:
    return list(
        db.session.scalars(db.select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position))
    )


def _find_stage(record: Record, target: str | uuid.UUID, pipeline_id: uuid.UUID | None) -> Stage:
    """A stage by id, or by key within the record's (or the given, or default) pipeline."""
    if isinstance(target, uuid.UUID):
        stage = db.session.get(Stage, (current_tenant_id(), target))
    else:
        try:
            stage = db.session.get(Stage, (current_tenant_id(), uuid.UUID(str(target))))
        except ValueError:
            stage = None
        if stage is None:
            pid = pipeline_id or record.pipeline_id
            if pid is None:
                default = next(iter(pipelines_for(record.entity_type)), None)
                pid = default.id if default else None
            stage = db.session.scalar(
                db.select(Stage).where(Stage.pipeline_id == pid, Stage.key == str(target))
            )
    if stage is None:
        raise NotFound(f"No stage {target!r}.")
    pipeline = get_pipeline(stage.pipeline_id)
    if pipeline.entity_type != record.entity_type:
        raise NotFound(f"No stage {target!r} for a {record.entity_type}.")
    return stage


def unmet_requirements(record: Record, stage: Stage, reason: str | None = None) -> list[Unmet]:
    req = stage.requirements or {}
    etype = registry.entity_type(record.entity_type)
    current = records.values(etype, record)
    unmet: list[Unmet] = []
    for name in req.get("fields", []):
        f = etype.field(name)
        if blank(current.get(name)):
            label = f.display_label if f else name
            unmet.append(Unmet("field", name, f"{label} must be filled in."))
    for rule in req.get("relations", []):
        query = (
            db.select(Record)
            .join(Relation, Relation.to_id == Record.id)
            .where(Relation.from_id == record.id, Relation.role == rule["role"], Record.deleted_at.is_(None))
        )
        candidates = list(db.session.scalars(query))
        where: dict[str, Any] = rule.get("where") or {}
        if where:

            def matches(candidate: Record, where: dict[str, Any] = where) -> bool:
                candidate_values = records.values(registry.entity_type(candidate.entity_type), candidate)
                return all(candidate_values.get(k) == v for k, v in where.items())

            candidates = [c for c in candidates if matches(c)]
        if not candidates:
            role = rule["role"].replace("_", " ")
            detail = "".join(f", {k} {v}" for k, v in where.items())
            unmet.append(Unmet("relation", rule["role"], rule.get("message") or f"Add a {role}{detail}."))
    if req.get("reason") and not (reason or "").strip():
        unmet.append(Unmet("reason", "reason", f"Say why the record goes to {stage.name}."))
    return unmet


def move(
    type_name: str,
    record_id: uuid.UUID,
    target: str | uuid.UUID,
    *,
    reason: str | None = None,
    override: bool = False,
    pipeline_id: uuid.UUID | None = None,
) -> StageChange:
    """Move a record to a stage, enforcing the stage's entry requirements."""
    require("records.edit")
    record = records.get(type_name, record_id)
    stage = _find_stage(record, target, pipeline_id)
    unmet = unmet_requirements(record, stage, reason)
    if unmet and not override:
        raise MoveRefused(stage, unmet)
    if unmet and override:
        actor = require("stages.override")
        if not (reason or "").strip():
            raise MoveRefused(stage, [Unmet("reason", "reason", "An override needs a reason.")])
        security_log.record(
            "stage.override",
            user_id=actor.user_id,
            record=str(record.id),
            stage=stage.key,
            unmet=[u.name for u in unmet],
            reason=reason,
        )
    change = StageChange(
        record_id=record.id,
        pipeline_id=stage.pipeline_id,
        from_stage_id=record.stage_id,
        to_stage_id=stage.id,
        user_id=current_actor().user_id,
        reason=reason,
        override=bool(unmet and override),
    )
    db.session.add(change)
    previous = record.stage_id
    now = utcnow()
    record.pipeline_id, record.stage_id, record.stage_entered_at, record.updated_at = (
        stage.pipeline_id,
        stage.id,
        now,
        now,
    )
    records.record_activity(
        record,
        "stage",
        {
            "from": str(previous) if previous else None,
            "to": str(stage.id),
            "stage": stage.name,
            "reason": reason,
            "override": change.override,
        },
    )
    return change


def enter_default_pipeline(record: Record) -> StageChange | None:
    """Put a new record on the first stage of its type's default pipeline, if it has one.

    The first stage's requirements hold here too: creation is one more path into a stage.
    """
    pipeline = db.session.scalar(
        db.select(Pipeline).where(Pipeline.entity_type == record.entity_type, Pipeline.is_default.is_(True))
    )
    if pipeline is None:
        return None
    first = db.session.scalar(
        db.select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position).limit(1)
    )
    if first is None:
        return None
    unmet = unmet_requirements(record, first)
    if unmet:
        raise MoveRefused(first, unmet)
    change = StageChange(
        record_id=record.id,
        pipeline_id=pipeline.id,
        from_stage_id=None,
        to_stage_id=first.id,
        user_id=current_actor().user_id,
    )
    db.session.add(change)
    record.pipeline_id, record.stage_id, record.stage_entered_at = pipeline.id, first.id, utcnow()
    return change


def history(type_name: str, record_id: uuid.UUID) -> list[StageChange]:
    record = records.get(type_name, record_id, include_deleted=True)
    return list(
        db.session.scalars(
            db.select(StageChange).where(StageChange.record_id == record.id).order_by(StageChange.at)
        )
    )
