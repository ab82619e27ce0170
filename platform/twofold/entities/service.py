"""Creating, reading, changing and deleting records, with their timeline.

Every write validates through the type's generated schema, checks references and unique
fields, and records an activity on the record's timeline in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func

from twofold.auth.models import Membership
from twofold.auth.permissions import current_actor, require
from twofold.db import db, utcnow
from twofold.entities import schemas
from twofold.entities.columns import TYPED, field_expr
from twofold.entities.meta import EntityType
from twofold.entities.models import Activity, Record
from twofold.events import outbox
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.tenancy.scope import current_tenant_id
from twofold.validation import ValidationError

SEARCHABLE = {"text", "email", "phone", "url", "choice"}


class RecordNotFound(NotFound):
    pass


# --- reading ----------------------------------------------------------------------------


def get(type_name: str, record_id: uuid.UUID, *, include_deleted: bool = False) -> Record:
    require("records.view")
    registry.entity_type(type_name)  # a disabled pack's types are not found
    record = db.session.get(Record, (current_tenant_id(), record_id))
    if record is None or record.entity_type != type_name or record.merged_into is not None:
        raise RecordNotFound(str(record_id))
    if record.deleted_at is not None and not include_deleted:
        raise RecordNotFound(str(record_id))
    return record


def values(etype: EntityType, record: Record) -> dict[str, Any]:
    """Field values of a record, typed columns included."""
    out = dict(record.data or {})
    for f in etype.fields:
        if f.column in TYPED:
            value = getattr(record, f.column)
            out[f.name] = schemas.to_json_value(value)
    return out


def to_json(etype: EntityType, record: Record) -> dict[str, Any]:
    body = {
        "id": str(record.id),
        "type": record.entity_type,
        "title": record.title,
        "owner_id": str(record.owner_id) if record.owner_id else None,
        "pipeline_id": str(record.pipeline_id) if record.pipeline_id else None,
        "stage_id": str(record.stage_id) if record.stage_id else None,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }
    if record.deleted_at is not None:
        body["deleted_at"] = record.deleted_at.isoformat()
    field_values = values(etype, record)
    for f in etype.fields:
        body[f.name] = field_values.get(f.name)
    return body


def timeline(type_name: str, record_id: uuid.UUID) -> list[Activity]:
    record = get(type_name, record_id, include_deleted=True)
    return list(
        db.session.scalars(
            db.select(Activity)
            .where(Activity.record_id == record.id)
            .order_by(Activity.at.desc(), Activity.id.desc())
        )
    )


# --- writing ----------------------------------------------------------------------------


# Timeline kinds and the domain events they emit.
EVENT_KINDS = {
    "created": "record.created",
    "updated": "record.updated",
    "deleted": "record.deleted",
    "restored": "record.restored",
    "stage": "stage.changed",
    "related": "relation.added",
    "unrelated": "relation.removed",
    "merged": "record.merged",
}


def record_activity(record: Record, kind: str, changes: dict[str, Any] | None = None) -> Activity:
    """Write one line on the record's timeline and the domain events the change emits.

    Both join the current transaction: the change, its history and its events are written
    together or not at all.
    """
    actor = current_actor()
    changes = changes or {}
    activity = Activity(record_id=record.id, user_id=actor.user_id, kind=kind, changes=changes)
    db.session.add(activity)
    event_kind = EVENT_KINDS.get(kind)
    if event_kind:
        outbox.emit(event_kind, entity_type=record.entity_type, record_id=record.id, changes=changes)
    if kind == "updated":
        for name, (old, new) in changes.items():
            outbox.emit("field.changed", entity_type=record.entity_type, record_id=record.id,
                        field=name, old=old, new=new)
    return activity


def _check_references(etype: EntityType, clean: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for f in etype.fields:
        value = clean.get(f.name)
        if value is None:
            continue
        if f.type == "reference":
            target = db.session.get(Record, (current_tenant_id(), value))
            if target is None or target.deleted_at is not None or target.entity_type != f.reference:
                errors[f.name] = [f"No such {f.reference}."]
        elif f.type == "user":
            member = db.session.scalar(db.select(Membership.id).where(Membership.user_id == value))
            if member is None:
                errors[f.name] = ["No such user in this company."]
    if "owner_id" in clean and clean["owner_id"] is not None:
        member = db.session.scalar(db.select(Membership.id).where(Membership.user_id == clean["owner_id"]))
        if member is None:
            errors["owner_id"] = ["No such user in this company."]
    if errors:
        raise ValidationError(errors)


def find_duplicate(
    etype: EntityType, field_name: str, value: Any, *, exclude: uuid.UUID | None = None
) -> Record | None:
    f = etype.field(field_name)
    assert f is not None
    expr = field_expr(f, db.engine.dialect.name)
    query = db.select(Record).where(
        Record.entity_type == etype.name,
        Record.deleted_at.is_(None),
        Record.merged_into.is_(None),
        expr == schemas.to_json_value(value),
    )
    if exclude is not None:
        query = query.where(Record.id != exclude)
    return db.session.scalar(query.limit(1))


def _check_unique(etype: EntityType, clean: dict[str, Any], exclude: uuid.UUID | None = None) -> None:
    errors: dict[str, list[str]] = {}
    for f in etype.fields:
        if f.unique and not schemas.blank(clean.get(f.name)):
            duplicate = find_duplicate(etype, f.name, clean[f.name], exclude=exclude)
            if duplicate is not None:
                existing = duplicate.title or duplicate.id
                errors[f.name] = [f"A {etype.label.lower()} with this value already exists: {existing}."]
    if errors:
        raise ValidationError(errors)


def apply_values(etype: EntityType, record: Record, clean: dict[str, Any]) -> dict[str, list[Any]]:
    """Set values on the record; return ``{field: [old, new]}`` for what changed."""
    before = values(etype, record)
    data = dict(record.data or {})
    changes: dict[str, list[Any]] = {}
    for name, value in clean.items():
        if name == "owner_id":
            if record.owner_id != value:
                changes["owner_id"] = [schemas.to_json_value(record.owner_id), schemas.to_json_value(value)]
                record.owner_id = value
            continue
        f = etype.field(name)
        assert f is not None
        stored = schemas.to_json_value(value)
        if f.column in TYPED:
            setattr(record, f.column, value)
        elif schemas.blank(value):
            data.pop(name, None)
        else:
            data[name] = stored
        if before.get(name) != stored and not (schemas.blank(before.get(name)) and schemas.blank(stored)):
            changes[name] = [before.get(name), stored]
    record.data = data  # a new dict: the JSON column is not mutation-tracked
    after = values(etype, record)
    record.title = etype.title_for(after)[:500]
    record.search_text = " ".join(
        str(after[f.name]) for f in etype.fields if f.type in SEARCHABLE and after.get(f.name)
    ).lower()
    return changes


def create(type_name: str, data: Any) -> Record:
    actor = require("records.edit")
    etype = registry.entity_type(type_name)
    clean = schemas.load(etype, data)
    _check_references(etype, clean)
    _check_unique(etype, clean)
    record = Record(entity_type=etype.name, data={}, created_by=actor.user_id)
    record.owner_id = actor.user_id
    apply_values(etype, record, clean)
    db.session.add(record)
    db.session.flush()
    record_activity(
        record, "created", {k: v for k, v in values(etype, record).items() if not schemas.blank(v)}
    )
    from twofold.pipelines.service import enter_default_pipeline  # pipelines build on records

    enter_default_pipeline(record)
    return record


def update(type_name: str, record_id: uuid.UUID, data: Any) -> Record:
    require("records.edit")
    etype = registry.entity_type(type_name)
    record = get(type_name, record_id)
    clean = schemas.load(etype, data, partial=True)
    merged = {**values(etype, record), **clean}
    missing = [f.name for f in etype.fields if f.required and schemas.blank(merged.get(f.name))]
    if missing:
        raise ValidationError({name: ["Missing data for required field."] for name in missing})
    _check_references(etype, clean)
    _check_unique(etype, clean, exclude=record.id)
    changes = apply_values(etype, record, clean)
    if changes:
        record.updated_at = utcnow()
        record_activity(record, "updated", changes)
    return record


def delete(type_name: str, record_id: uuid.UUID) -> Record:
    """Soft delete: the record goes to the trash and can be restored."""
    require("records.delete")
    record = get(type_name, record_id)
    record.deleted_at = utcnow()
    record_activity(record, "deleted")
    return record


def restore(type_name: str, record_id: uuid.UUID) -> Record:
    require("records.delete")
    etype = registry.entity_type(type_name)
    record = get(type_name, record_id, include_deleted=True)
    if record.deleted_at is None:
        return record
    _check_unique(etype, values(etype, record), exclude=record.id)
    record.deleted_at = None
    record_activity(record, "restored")
    return record


def count(type_name: str) -> int:
    registry.entity_type(type_name)
    return db.session.scalar(
        db.select(func.count())
        .select_from(Record)
        .where(Record.entity_type == type_name, Record.deleted_at.is_(None), Record.merged_into.is_(None))
    )
