"""A record's page: its fields, stage and "move to", related records, timeline; merging.

A refused move shows the stage's unmet requirements beside the control (409); an admin
may override with a reason, which the service writes to the history and security log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from twofold.db import db
from twofold.entities import lookup, merge, query, relations
from twofold.entities import service as records
from twofold.entities.meta import EntityType, RelationRole
from twofold.entities.models import Record
from twofold.packs import registry
from twofold.pipelines import service as pipelines
from twofold.pipelines.models import Pipeline, Stage
from twofold.pipelines.service import MoveRefused, Unmet
from twofold.web import record_forms
from twofold.web.forms import attempt
from twofold.web.records_views import bp
from twofold.web.timeline import referenced, timeline_entries


@dataclass(frozen=True)
class RoleChoice:
    role: RelationRole
    options: tuple[tuple[str, str], ...] | None  # None: too many for a select, an id input


@dataclass(frozen=True)
class StageBox:
    pipeline: Pipeline | None
    stages: list[Stage]
    current: Stage | None


def _stage_box(record: Record) -> StageBox:
    if record.pipeline_id is not None:
        pipeline: Pipeline | None = pipelines.get_pipeline(record.pipeline_id)
    else:
        pipeline = next(iter(pipelines.pipelines_for(record.entity_type)), None)
    stages = pipelines.stages(pipeline) if pipeline else []
    return StageBox(pipeline, stages, next((s for s in stages if s.id == record.stage_id), None))


def _role_choices(etype: EntityType, choices: record_forms.Choices) -> list[RoleChoice]:
    out = []
    for role in etype.relations:
        if role.to_type not in registry.current().entity_types:
            continue  # the related type's pack is off
        out.append(RoleChoice(role, choices.records(role.to_type)))
    return out


def _page(
    type_name: str,
    record_id: uuid.UUID,
    *,
    unmet: list[Unmet] | None = None,
    move_form: Any = None,
    relation_errors: dict | None = None,
) -> str:
    etype = registry.entity_type(type_name)
    record = records.get(type_name, record_id)
    values = records.values(etype, record)
    activities = records.timeline(type_name, record_id)
    box = _stage_box(record)
    entries = timeline_entries(etype, activities, lookup.user_emails(a.user_id for a in activities))
    mentioned, owners = referenced(entries)
    return render_template(
        "records/show.html",
        etype=etype,
        record=record,
        values=values,
        box=box,
        lk=record_forms.lookups_for(etype, [values, *mentioned], [record], extra_users=owners),
        timeline=entries,
        related=relations.related(record),
        related_to=relations.related_to(record),
        roles=_role_choices(etype, record_forms.Choices()),
        relation_errors=relation_errors or {},
        unmet=unmet or [],
        move_form=move_form or {},
    )


@bp.get("/<type_name>/<uuid:record_id>")
def show(type_name: str, record_id: uuid.UUID) -> Any:
    return _page(type_name, record_id)


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


@bp.post("/<type_name>/<uuid:record_id>/move")
def move(type_name: str, record_id: uuid.UUID) -> Any:
    form = request.form
    reason = (form.get("reason") or "").strip() or None
    try:
        change = pipelines.move(
            type_name,
            record_id,
            form.get("stage", ""),
            reason=reason,
            override=form.get("override") == "true",
            pipeline_id=_uuid(form.get("pipeline_id")),
        )
    except MoveRefused as exc:
        db.session.rollback()
        return _page(type_name, record_id, unmet=exc.unmet, move_form=form), 409
    db.session.commit()
    stage = next(
        (
            s
            for s in pipelines.stages(pipelines.get_pipeline(change.pipeline_id))
            if s.id == change.to_stage_id
        ),
        None,
    )
    flash(
        f"Moved to {stage.name if stage else 'the new stage'}." + (" (override)" if change.override else "")
    )
    return redirect(url_for(".show", type_name=type_name, record_id=record_id))


@bp.post("/<type_name>/<uuid:record_id>/relations")
def relate(type_name: str, record_id: uuid.UUID) -> Any:
    to_id = _uuid((request.form.get("to_id") or "").strip())
    if to_id is None:
        errors = {"to_id": ["Pick a record (or paste its id)."]}
    else:
        _rel, errors = attempt(
            lambda: relations.relate(type_name, record_id, request.form.get("role", ""), to_id)
        )
    if errors:
        return _page(type_name, record_id, relation_errors={"role": request.form.get("role"), **errors}), 422
    db.session.commit()
    flash("Related record added.")
    return redirect(url_for(".show", type_name=type_name, record_id=record_id) + "#related")


@bp.post("/<type_name>/<uuid:record_id>/relations/<uuid:relation_id>/remove")
def unrelate(type_name: str, record_id: uuid.UUID, relation_id: uuid.UUID) -> Any:
    relations.unrelate(type_name, record_id, relation_id)
    db.session.commit()
    flash("Relation removed.")
    return redirect(url_for(".show", type_name=type_name, record_id=record_id) + "#related")


# --- merge ------------------------------------------------------------------------------


def _merge_page(type_name: str, record_id: uuid.UUID, errors: dict) -> str:
    etype = registry.entity_type(type_name)
    record = records.get(type_name, record_id)
    same_title = (
        query.list_records(type_name, params={"title": record.title}, limit=20).records
        if record.title
        else []
    )
    likely = [(str(r.id), r.title) for r in same_title if r.id != record.id]
    others = record_forms.Choices().records(type_name)
    if others is not None:
        others = tuple(o for o in others if o[0] != str(record.id) and o not in likely)
    return render_template(
        "records/merge.html",
        etype=etype,
        record=record,
        likely=likely,
        others=others,
        errors=errors,
    )


@bp.get("/<type_name>/<uuid:record_id>/merge")
def merge_form(type_name: str, record_id: uuid.UUID) -> Any:
    return _merge_page(type_name, record_id, {})


@bp.post("/<type_name>/<uuid:record_id>/merge")
def merge_records(type_name: str, record_id: uuid.UUID) -> Any:
    duplicate_id = _uuid((request.form.get("duplicate_id") or "").strip())
    if duplicate_id is None:
        return _merge_page(
            type_name, record_id, {"duplicate_id": ["Pick the duplicate (or paste its id)."]}
        ), 422
    survivor, errors = attempt(lambda: merge.merge(type_name, record_id, duplicate_id))
    if survivor is None:
        return _merge_page(type_name, record_id, errors), 422
    db.session.commit()
    flash("Merged. The duplicate's relations and timeline are here now; it is kept in the trash.")
    return redirect(url_for(".show", type_name=type_name, record_id=survivor.id))
