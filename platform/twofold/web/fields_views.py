"""Settings: the fields of each entity type, and the custom fields an admin adds or removes.

Adding goes through :func:`twofold.entities.custom_fields.add`, the same validation as
``POST /api/v1/entity-types/<type>/fields``; errors show beside their inputs.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from twofold.auth.permissions import require
from twofold.db import db
from twofold.entities import custom_fields
from twofold.entities.meta import FIELD_TYPES
from twofold.packs import registry
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web.forms import attempt

bp = tenant_blueprint("fields", __name__, url_prefix="/settings/fields")

FLAGS = ("required", "unique", "indexed", "personal")
TYPE_LABELS = {
    "text": "Text", "number": "Number", "money": "Money", "date": "Date", "datetime": "Date and time",
    "bool": "Yes / no", "choice": "Choice", "multi_choice": "Several choices", "email": "Email",
    "phone": "Phone", "url": "Web address", "reference": "Link to a record", "user": "Team member",
}


def _posted() -> dict[str, Any]:
    """The form as the schema's input: checkboxes as booleans, choices as a list."""
    form = request.form
    data: dict[str, Any] = {k: form.get(k, "").strip() for k in ("name", "label", "type")}
    for flag in FLAGS:
        data[flag] = form.get(flag) == "on"
    raw_choices = form.get("choices", "").replace("\n", ",")
    data["choices"] = [c.strip() for c in raw_choices.split(",") if c.strip()]
    if form.get("reference"):
        data["reference"] = form["reference"]
    if form.get("default", "").strip():
        data["default"] = form["default"].strip()
    return data


def _page(type_name: str | None, errors: dict, form: Any) -> str:
    types = registry.current().entity_types
    if not types:
        return render_template("settings/fields.html", types=types, etype=None, errors={}, form={})
    etype = types.get(type_name or "") or next(iter(types.values()))
    rows = {row.name: row for row in custom_fields.list_for(etype.name)}
    return render_template(
        "settings/fields.html", types=types, etype=etype, custom=rows, errors=errors, form=form,
        field_types=FIELD_TYPES, type_labels=TYPE_LABELS, flags=FLAGS,
    )


@bp.get("/")
def settings() -> Any:
    require("fields.manage")
    return _page(request.args.get("type"), {}, {})


@bp.post("/<type_name>")
def add(type_name: str) -> Any:
    registry.entity_type(type_name)
    row, errors = attempt(lambda: custom_fields.add(type_name, _posted()))
    if row is None:
        return _page(type_name, errors, request.form), 422
    db.session.commit()
    flash(f"Field “{row.label or row.name}” added. It is in the forms, lists and API now.")
    return redirect(url_for(".settings", type=type_name))


@bp.post("/<type_name>/<uuid:field_id>/remove")
def remove(type_name: str, field_id: uuid.UUID) -> Any:
    try:
        custom_fields.remove(type_name, field_id)
    except LookupError:
        abort(404)
    db.session.commit()
    flash("Field removed. Values already stored stay in the records, hidden.")
    return redirect(url_for(".settings", type=type_name))
