"""Entity types and custom fields, packs, pipelines and metrics in the API."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from twofold.api import bp
from twofold.api.helpers import json_body
from twofold.db import db
from twofold.entities import custom_fields
from twofold.entities.meta import EntityType
from twofold.exceptions import NotFound
from twofold.metrics import engine
from twofold.packs import registry
from twofold.packs import service as packs
from twofold.pipelines import service as pipelines


def _type_json(etype: EntityType) -> dict[str, Any]:
    return {
        "name": etype.name,
        "label": etype.label,
        "label_plural": etype.plural,
        "pack": etype.pack,
        "fields": [{k: v for k, v in asdict(f).items()} for f in etype.fields],
        "relations": [asdict(r) for r in etype.relations],
    }


@bp.get("/entity-types")
def list_entity_types() -> Any:
    return {"data": [_type_json(t) for t in registry.current().entity_types.values()]}


@bp.get("/entity-types/<type_name>")
def get_entity_type(type_name: str) -> Any:
    return _type_json(registry.entity_type(type_name))


@bp.post("/entity-types/<type_name>/fields")
def add_field(type_name: str) -> Any:
    row = custom_fields.add(type_name, json_body())
    db.session.commit()
    return {"id": str(row.id), **asdict(custom_fields.as_field(row))}, 201


@bp.delete("/entity-types/<type_name>/fields/<uuid:field_id>")
def remove_field(type_name: str, field_id: uuid.UUID) -> Any:
    try:
        custom_fields.remove(type_name, field_id)
    except LookupError:
        raise NotFound(str(field_id)) from None
    db.session.commit()
    return "", 204


@bp.get("/packs")
def list_packs() -> Any:
    return {
        "data": [
            {
                "name": s.info.name,
                "label": s.info.label,
                "description": s.info.description,
                "enabled": s.enabled,
            }
            for s in packs.states()
        ]
    }


@bp.post("/packs/<name>/enable")
def enable_pack(name: str) -> Any:
    state = packs.enable(name)
    db.session.commit()
    return {"name": state.info.name, "enabled": state.enabled}


@bp.post("/packs/<name>/disable")
def disable_pack(name: str) -> Any:
    state = packs.disable(name)
    db.session.commit()
    return {"name": state.info.name, "enabled": state.enabled}


def _pipeline_json(pipeline: Any) -> dict[str, Any]:
    return {
        "id": str(pipeline.id),
        "key": pipeline.key,
        "name": pipeline.name,
        "entity_type": pipeline.entity_type,
        "is_default": pipeline.is_default,
        "stages": [
            {
                "id": str(s.id),
                "key": s.key,
                "name": s.name,
                "position": s.position,
                "kind": s.kind,
                "probability": s.probability,
                "requirements": s.requirements,
                "stall_days": s.stall_days,
            }
            for s in pipelines.stages(pipeline)
        ],
    }


@bp.get("/pipelines")
def list_pipelines() -> Any:
    return {"data": [_pipeline_json(p) for p in pipelines.all_pipelines()]}


@bp.get("/pipelines/<uuid:pipeline_id>")
def get_pipeline(pipeline_id: uuid.UUID) -> Any:
    return _pipeline_json(pipelines.get_pipeline(pipeline_id))


@bp.get("/metrics/<name>")
def get_metric(name: str) -> Any:
    result = engine.compute(name)
    body: dict[str, Any] = {"name": result.name, "label": result.label, "value": result.value}
    if result.groups is not None:
        body["groups"] = [{"key": k, "value": v} for k, v in result.groups]
    return body


@bp.get("/pipelines/<uuid:pipeline_id>/stats")
def pipeline_stats(pipeline_id: uuid.UUID) -> Any:
    from twofold.pipelines import stats

    rows = stats.pipeline_stats(pipeline_id)
    return {
        "stages": [
            {
                "id": str(s.stage_id),
                "key": s.key,
                "name": s.name,
                "kind": s.kind,
                "entered": s.entered,
                "current": s.current,
                "avg_hours_in_stage": s.avg_hours,
                "conversion_to_next": s.conversion,
            }
            for s in rows
        ],
        "cycle_days": stats.cycle_days(pipeline_id),
    }
