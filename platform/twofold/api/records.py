"""The one REST API that serves every entity type: ``/api/v1/records/<type>``."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request

from twofold.api import bp
from twofold.api.helpers import json_body
from twofold.db import db
from twofold.entities import merge, query, relations
from twofold.entities import service as records
from twofold.packs import registry
from twofold.pipelines import service as pipelines
from twofold.validation import ValidationError

# Query parameters that are not filters.
LIST_PARAMS = {"q", "sort", "limit", "cursor", "trash"}
BULK_LIMIT = 1000


def _record_json(type_name: str, record: Any) -> dict[str, Any]:
    return records.to_json(registry.entity_type(type_name), record)


@bp.get("/records/<type_name>")
def list_records(type_name: str) -> Any:
    args = request.args
    params = {k: v for k, v in args.items() if k not in LIST_PARAMS}
    try:
        limit = int(args.get("limit", query.DEFAULT_LIMIT))
    except ValueError:
        raise ValidationError({"limit": ["Not a number."]}) from None
    page = query.list_records(
        type_name, params=params, q=args.get("q", ""), sort=args.get("sort", "-id"),
        limit=limit, cursor=args.get("cursor"), trash=args.get("trash") in ("1", "true"),
    )
    etype = registry.entity_type(type_name)
    return {"data": [records.to_json(etype, r) for r in page.records], "next_cursor": page.next_cursor}


@bp.post("/records/<type_name>")
def create_record(type_name: str) -> Any:
    record = records.create(type_name, json_body())
    db.session.commit()
    return _record_json(type_name, record), 201


@bp.post("/records/<type_name>/bulk")
def bulk_create(type_name: str) -> Any:
    """All or nothing: any bad item rejects the batch, with errors keyed by item index."""
    items = request.get_json(silent=True)
    if not isinstance(items, list) or not items:
        raise ValidationError({"_schema": ["Send a JSON array of records."]})
    if len(items) > BULK_LIMIT:
        message = f"At most {BULK_LIMIT} records per request; import a CSV for more."
        raise ValidationError({"_schema": [message]})
    created, errors = [], {}
    for index, item in enumerate(items):
        try:
            with db.session.begin_nested():
                created.append(records.create(type_name, item))
        except ValidationError as exc:
            errors[str(index)] = exc.messages
    if errors:
        db.session.rollback()
        raise ValidationError(errors)
    db.session.commit()
    etype = registry.entity_type(type_name)
    return {"data": [records.to_json(etype, r) for r in created]}, 201


@bp.get("/records/<type_name>/<uuid:record_id>")
def get_record(type_name: str, record_id: uuid.UUID) -> Any:
    return _record_json(type_name, records.get(type_name, record_id))


@bp.patch("/records/<type_name>/<uuid:record_id>")
def update_record(type_name: str, record_id: uuid.UUID) -> Any:
    record = records.update(type_name, record_id, json_body())
    db.session.commit()
    return _record_json(type_name, record)


@bp.delete("/records/<type_name>/<uuid:record_id>")
def delete_record(type_name: str, record_id: uuid.UUID) -> Any:
    records.delete(type_name, record_id)
    db.session.commit()
    return "", 204


@bp.post("/records/<type_name>/<uuid:record_id>/restore")
def restore_record(type_name: str, record_id: uuid.UUID) -> Any:
    record = records.restore(type_name, record_id)
    db.session.commit()
    return _record_json(type_name, record)


@bp.get("/records/<type_name>/<uuid:record_id>/timeline")
def record_timeline(type_name: str, record_id: uuid.UUID) -> Any:
    return {
        "data": [
            {"id": str(a.id), "at": a.at.isoformat(), "kind": a.kind,
             "user_id": str(a.user_id) if a.user_id else None, "changes": a.changes}
            for a in records.timeline(type_name, record_id)
        ]
    }


@bp.post("/records/<type_name>/<uuid:record_id>/move")
def move_record(type_name: str, record_id: uuid.UUID) -> Any:
    body = json_body()
    stage = body.get("stage")
    if not stage:
        raise ValidationError({"stage": ["Name the target stage (its key or id)."]})
    pipeline_id = body.get("pipeline_id")
    try:
        pipeline_uuid = uuid.UUID(pipeline_id) if pipeline_id else None
    except ValueError:
        raise ValidationError({"pipeline_id": ["Not a valid id."]}) from None
    change = pipelines.move(
        type_name, record_id, str(stage), reason=body.get("reason"),
        override=bool(body.get("override")), pipeline_id=pipeline_uuid,
    )
    db.session.commit()
    return {"record": _record_json(type_name, records.get(type_name, record_id)),
            "change": {"id": str(change.id), "override": change.override}}


@bp.get("/records/<type_name>/<uuid:record_id>/history")
def stage_history(type_name: str, record_id: uuid.UUID) -> Any:
    return {
        "data": [
            {"at": c.at.isoformat(), "from_stage_id": str(c.from_stage_id) if c.from_stage_id else None,
             "to_stage_id": str(c.to_stage_id), "user_id": str(c.user_id) if c.user_id else None,
             "reason": c.reason, "override": c.override}
            for c in pipelines.history(type_name, record_id)
        ]
    }


@bp.get("/records/<type_name>/<uuid:record_id>/relations")
def list_relations(type_name: str, record_id: uuid.UUID) -> Any:
    record = records.get(type_name, record_id)
    return {
        "data": [
            {"id": str(r.relation.id), "role": r.relation.role, "to_id": str(r.record.id),
             "to_type": r.record.entity_type, "title": r.record.title}
            for r in relations.related(record)
        ]
    }


@bp.post("/records/<type_name>/<uuid:record_id>/relations")
def add_relation(type_name: str, record_id: uuid.UUID) -> Any:
    body = json_body()
    try:
        to_id = uuid.UUID(str(body.get("to_id")))
    except ValueError:
        raise ValidationError({"to_id": ["Not a valid id."]}) from None
    relation = relations.relate(type_name, record_id, str(body.get("role", "")), to_id)
    db.session.commit()
    return {"id": str(relation.id), "role": relation.role, "to_id": str(relation.to_id)}, 201


@bp.delete("/records/<type_name>/<uuid:record_id>/relations/<uuid:relation_id>")
def remove_relation(type_name: str, record_id: uuid.UUID, relation_id: uuid.UUID) -> Any:
    relations.unrelate(type_name, record_id, relation_id)
    db.session.commit()
    return "", 204


@bp.post("/records/<type_name>/<uuid:record_id>/merge")
def merge_records(type_name: str, record_id: uuid.UUID) -> Any:
    body = json_body()
    try:
        duplicate = uuid.UUID(str(body.get("duplicate_id")))
    except ValueError:
        raise ValidationError({"duplicate_id": ["Not a valid id."]}) from None
    survivor = merge.merge(type_name, record_id, duplicate)
    db.session.commit()
    return _record_json(type_name, survivor)
