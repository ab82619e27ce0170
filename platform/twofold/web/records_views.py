"""Lists of records per type: filters, sort, search, keyset pages; the trash; inline edits.

Filters use the API's query parameters (``priority=high``, ``amount__gte=100``…), so a
list's address is the same question the API answers. The filter builder on the page
posts ``filter_field`` / ``filter_op`` / ``filter_value`` and is folded into one such
parameter by a redirect.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for

from twofold.db import db
from twofold.entities import query
from twofold.entities import service as records
from twofold.entities.meta import EntityType, Field
from twofold.packs import registry
from twofold.pipelines import service as pipelines
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web import record_forms
from twofold.web.forms import attempt

bp = tenant_blueprint("records", __name__, url_prefix="/records")

PAGE_SIZE = 25
MAX_COLUMNS = 8
BUILDER = ("filter_field", "filter_op", "filter_value")
NOT_FILTERS = {"q", "sort", "cursor", *BUILDER}
OPERATOR_LABELS = {
    "eq": "is",
    "in": "is one of",
    "contains": "contains",
    "gte": "≥",
    "lte": "≤",
    "gt": ">",
    "lt": "<",
    "empty": "is empty",
}
META_LABELS = {"title": "Title", "created_at": "Created", "updated_at": "Updated"}


@dataclass(frozen=True)
class Chip:
    label: str
    remove_url: str


def list_url(type_name: str, params: dict[str, str], endpoint: str = "records.index") -> str:
    base = url_for(endpoint, type_name=type_name)
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(clean)}" if clean else base


def columns(etype: EntityType) -> list[Field]:
    """The fields a list shows beside the title (the title's own field is not repeated)."""
    return [f for f in etype.fields if f.name != etype.title][:MAX_COLUMNS]


def stage_names(type_name: str) -> dict[uuid.UUID, str]:
    return {s.id: s.name for p in pipelines.pipelines_for(type_name) for s in pipelines.stages(p)}


def _chips(etype: EntityType, filters: dict[str, str], keep: dict[str, str]) -> list[Chip]:
    chips = []
    for key, raw in filters.items():
        name, _, op = key.partition("__")
        f = etype.field(name)
        label = f.display_label if f else META_LABELS.get(name, name)
        if op == "empty":
            text = f"{label} {'is empty' if raw.lower() in ('1', 'true', 'yes') else 'is not empty'}"
        else:
            text = f"{label} {OPERATOR_LABELS.get(op or 'eq', op)} {raw}"
        rest = {k: v for k, v in {**keep, **filters}.items() if k != key}
        chips.append(Chip(text, list_url(etype.name, rest)))
    return chips


def _rows(etype: EntityType, page_records: list) -> list[tuple[Any, dict[str, Any]]]:
    return [(r, records.values(etype, r)) for r in page_records]


@bp.get("/<type_name>")
def index(type_name: str) -> Any:
    etype = registry.entity_type(type_name)
    args = request.args
    filters = {k: v for k, v in args.items() if k not in NOT_FILTERS}
    keep = {k: args[k] for k in ("q", "sort") if args.get(k)}
    if args.get("filter_field"):
        op = args.get("filter_op", "eq")
        key = args["filter_field"] if op == "eq" else f"{args['filter_field']}__{op}"
        value = args.get("filter_value", "") or ("true" if op == "empty" else "")
        return redirect(list_url(type_name, {**keep, **filters, key: value}))
    sort = args.get("sort", "-id")
    page, errors = attempt(
        lambda: query.list_records(
            type_name,
            params=filters,
            q=args.get("q", ""),
            sort=sort,
            limit=PAGE_SIZE,
            cursor=args.get("cursor"),
        )
    )
    rows = _rows(etype, page.records if page else [])
    next_url = (
        list_url(type_name, {**keep, **filters, "cursor": page.next_cursor})
        if page and page.next_cursor
        else None
    )
    return render_template(
        "records/index.html",
        etype=etype,
        columns=columns(etype),
        rows=rows,
        errors=errors,
        lk=record_forms.lookups_for(etype, [v for _r, v in rows], [r for r, _v in rows]),
        stages=stage_names(type_name),
        pipelines=pipelines.pipelines_for(type_name),
        chips=_chips(etype, filters, keep),
        q=args.get("q", ""),
        sort=sort,
        filters=filters,
        keep=keep,
        next_url=next_url,
        first_url=list_url(type_name, {**keep, **filters}) if args.get("cursor") else None,
        filtering=bool(filters or args.get("q")),
        list_url=list_url,
        operators=OPERATOR_LABELS,
        meta_labels=META_LABELS,
    ), 422 if errors else 200


@bp.get("/<type_name>/trash")
def trash(type_name: str) -> Any:
    etype = registry.entity_type(type_name)
    page = query.list_records(
        type_name,
        sort="-id",
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor"),
        trash=True,
    )
    return render_template(
        "records/trash.html",
        etype=etype,
        page=page,
        next_url=list_url(type_name, {"cursor": page.next_cursor}, "records.trash")
        if page.next_cursor
        else None,
    )


@bp.post("/<type_name>/<uuid:record_id>/restore")
def restore(type_name: str, record_id: uuid.UUID) -> Any:
    record, errors = attempt(lambda: records.restore(type_name, record_id))
    if record is None:
        flash("Not restored: " + " ".join(m for ms in errors.values() for m in ms), "error")
        return redirect(url_for(".trash", type_name=type_name))
    db.session.commit()
    flash(f"Restored “{record.title or record.id}”.")
    return redirect(url_for(".show", type_name=type_name, record_id=record.id))


# --- inline edit of one cell (htmx) ----------------------------------------------------


def _cell(
    type_name: str,
    record_id: uuid.UUID,
    field_name: str,
    *,
    edit: bool,
    errors: dict | None = None,
    form: Any = None,
) -> str:
    etype = registry.entity_type(type_name)
    f = etype.field(field_name)
    if f is None:
        abort(404)
    record = records.get(type_name, record_id)
    values = records.values(etype, record)
    shown = record_forms.values_from_form(etype, form) if form is not None else values
    return render_template(
        "records/_cell.html",
        etype=etype,
        record=record,
        f=f,
        v=values.get(f.name),
        edit=edit,
        w=record_forms.widget(f, shown.get(f.name), record_forms.Choices()) if edit else None,
        errors=errors or {},
        lk=record_forms.lookups_for(etype, [values]),
    )


@bp.get("/<type_name>/<uuid:record_id>/cell/<field_name>")
def cell(type_name: str, record_id: uuid.UUID, field_name: str) -> Any:
    return _cell(type_name, record_id, field_name, edit=request.args.get("edit") == "1")


@bp.post("/<type_name>/<uuid:record_id>/cell/<field_name>")
def save_cell(type_name: str, record_id: uuid.UUID, field_name: str) -> Any:
    etype = registry.entity_type(type_name)
    data = record_forms.service_input(etype, request.form, creating=False, names=[field_name])
    record, errors = attempt(lambda: records.update(type_name, record_id, data))
    if record is None:
        errors = record_forms.friendly(errors)
        return _cell(type_name, record_id, field_name, edit=True, errors=errors, form=request.form), 422
    db.session.commit()
    return _cell(type_name, record_id, field_name, edit=False)
