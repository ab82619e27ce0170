"""Creating, editing and deleting a record through forms generated from its metadata.

The service validates (the same marshmallow schema as the API): a bad value comes back
as a message beside its field and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from twofold.db import db
from twofold.entities import service as records
from twofold.entities.meta import EntityType
from twofold.packs import registry
from twofold.pipelines.service import MoveRefused
from twofold.web import record_forms
from twofold.web.forms import attempt
from twofold.web.records_views import bp


def attempt_record(action: Callable[[], Any]) -> tuple[Any, dict[str, list[str]]]:
    """Like :func:`attempt`, and a first stage's unmet requirements become field errors."""
    try:
        result, errors = attempt(action)
    except MoveRefused as exc:
        db.session.rollback()
        errors = {}
        for unmet in exc.unmet:
            errors.setdefault(unmet.name if unmet.kind == "field" else "_schema", []).append(unmet.message)
        return None, errors
    return result, record_forms.friendly(errors)


def _form_page(etype: EntityType, values: dict[str, Any], errors: dict, record: Any = None) -> str:
    return render_template(
        "records/form.html", etype=etype, record=record, errors=errors,
        widgets=record_forms.widgets(etype, values),
        other_errors={k: v for k, v in errors.items() if etype.field(k) is None and k != "owner_id"},
    )


@bp.get("/<type_name>/new")
def new(type_name: str) -> Any:
    etype = registry.entity_type(type_name)
    initial = {f.name: f.default for f in etype.fields if f.default is not None}
    initial["owner_id"] = str(g.membership.user_id)
    return _form_page(etype, initial, {})


@bp.post("/<type_name>/new")
def create(type_name: str) -> Any:
    etype = registry.entity_type(type_name)
    data = record_forms.service_input(etype, request.form, creating=True)
    record, errors = attempt_record(lambda: records.create(type_name, data))
    if record is None:
        return _form_page(etype, record_forms.values_from_form(etype, request.form), errors), 422
    db.session.commit()
    flash(f"{etype.label} “{record.title or record.id}” created.")
    if request.form.get("then") == "new":
        return redirect(url_for(".new", type_name=type_name))
    return redirect(url_for(".show", type_name=type_name, record_id=record.id))


@bp.get("/<type_name>/<uuid:record_id>/edit")
def edit(type_name: str, record_id: uuid.UUID) -> Any:
    etype = registry.entity_type(type_name)
    record = records.get(type_name, record_id)
    values = {**records.values(etype, record), "owner_id": str(record.owner_id or "")}
    return _form_page(etype, values, {}, record)


@bp.post("/<type_name>/<uuid:record_id>/edit")
def update(type_name: str, record_id: uuid.UUID) -> Any:
    etype = registry.entity_type(type_name)
    record = records.get(type_name, record_id)
    data = record_forms.service_input(etype, request.form, creating=False)
    updated, errors = attempt_record(lambda: records.update(type_name, record_id, data))
    if updated is None:
        record = records.get(type_name, record_id)
        return _form_page(etype, record_forms.values_from_form(etype, request.form), errors, record), 422
    db.session.commit()
    flash("Saved.")
    return redirect(url_for(".show", type_name=type_name, record_id=record.id))


@bp.post("/<type_name>/<uuid:record_id>/delete")
def delete(type_name: str, record_id: uuid.UUID) -> Any:
    etype = registry.entity_type(type_name)
    record = records.delete(type_name, record_id)
    db.session.commit()
    flash(f"“{record.title or record.id}” is in the trash; you can restore it from there.")
    return redirect(url_for(".index", type_name=etype.name))
