"""Listing records: filters, sort, full-text search and keyset pagination.

Filters come as ``field=value`` with an optional operator suffix: ``__in`` (comma
separated), ``__gte`` / ``__lte`` / ``__gt`` / ``__lt``, ``__contains`` and ``__empty``
(``true``/``false``). ``sort`` names one field or column, ``-`` first for descending; ties
break on the id. Pages are cut by a cursor (the last row's sort value and id), so page
1,000 costs what page 1 does: the database seeks, it never skips rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from twofold.auth.permissions import require
from twofold.db import db
from twofold.entities.columns import field_expr
from twofold.entities.meta import EntityType, Field
from twofold.entities.models import Record
from twofold.entities.schemas import marshmallow_field, to_json_value
from twofold.packs import registry
from twofold.validation import ValidationError

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
OPERATORS = ("in", "gte", "lte", "gt", "lt", "contains", "empty")

# Typed columns that can be sorted and filtered on by name, with how to read a value.
META_COLUMNS: dict[str, tuple[Any, str]] = {
    "id": (Record.id, "uuid"),
    "title": (Record.title, "text"),
    "created_at": (Record.created_at, "datetime"),
    "updated_at": (Record.updated_at, "datetime"),
    "owner_id": (Record.owner_id, "uuid"),
    "pipeline_id": (Record.pipeline_id, "uuid"),
    "stage_id": (Record.stage_id, "uuid"),
}
NOT_NULL = {"id", "title", "created_at", "updated_at"}


@dataclass(frozen=True)
class Page:
    records: list[Record]
    next_cursor: str | None


@dataclass(frozen=True)
class _Column:
    expr: ColumnElement
    kind: str  # the field type, or uuid / datetime / text for meta columns
    nullable: bool
    field: Field | None = None


def _column(etype: EntityType, name: str, dialect: str) -> _Column:
    if name in META_COLUMNS:
        expr, kind = META_COLUMNS[name]
        return _Column(expr, kind, name not in NOT_NULL)
    f = etype.field(name)
    if f is None:
        raise ValidationError({name: [f"{etype.label} has no field {name!r}."]})
    return _Column(field_expr(f, dialect), f.type, True, f)


def _parse(column: _Column, raw: str, name: str) -> Any:
    try:
        if column.kind == "uuid":
            return uuid.UUID(raw)
        if column.kind == "datetime" and column.field is None:
            value = dt.datetime.fromisoformat(raw)
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if column.field is None:
            return raw
        probe = column.field
        if probe.type == "multi_choice":
            probe = Field(name=probe.name, type="choice", choices=probe.choices)
        value = marshmallow_field(probe, partial=True).deserialize(raw)
    except (ValueError, ValidationError) as exc:
        message = exc.messages if isinstance(exc, ValidationError) else [f"Not a valid value: {raw!r}."]
        raise ValidationError({name: message}) from exc
    stored_as_json_text = column.field is not None and column.field.column is None
    if stored_as_json_text and column.field.type not in ("number", "money"):
        return to_json_value(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _condition(column: _Column, op: str, raw: str, name: str) -> ColumnElement:
    expr = column.expr
    if op == "empty":
        wanted = raw.lower() in ("1", "true", "yes")
        textual = column.kind in ("text", "email", "phone", "url", "choice")
        empty = or_(expr.is_(None), expr == "") if textual else expr.is_(None)
        return empty if wanted else ~empty
    if op == "contains":
        return expr.ilike(f"%{raw}%")
    if column.kind == "multi_choice" and op == "eq":
        return expr.like(f'%"{_parse(column, raw, name)}"%')
    if op == "in":
        return expr.in_([_parse(column, part, name) for part in raw.split(",") if part != ""])
    value = _parse(column, raw, name)
    return {
        "eq": lambda: expr == value,
        "gte": lambda: expr >= value,
        "lte": lambda: expr <= value,
        "gt": lambda: expr > value,
        "lt": lambda: expr < value,
    }[op]()


def filters(etype: EntityType, params: dict[str, str], dialect: str) -> list[ColumnElement]:
    out = []
    for key, raw in params.items():
        name, _, op = key.partition("__")
        op = op or "eq"
        if op not in (*OPERATORS, "eq"):
            raise ValidationError({key: [f"Unknown operator {op!r}; use one of {', '.join(OPERATORS)}."]})
        out.append(_condition(_column(etype, name, dialect), op, raw, name))
    return out


def _search(q: str) -> list[ColumnElement]:
    return [Record.search_text.like(f"%{word}%") for word in q.lower().split() if word]


def encode_cursor(value: Any, record_id: uuid.UUID) -> str:
    payload = json.dumps([to_json_value(value), str(record_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, column: _Column, name: str) -> tuple[Any, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw_value, raw_id = json.loads(base64.urlsafe_b64decode(padded))
        record_id = uuid.UUID(raw_id)
    except (ValueError, binascii.Error, TypeError) as exc:
        raise ValidationError({"cursor": ["Not a cursor from this API; start again without one."]}) from exc
    if raw_value is None:
        return None, record_id
    if column.kind in ("number", "money"):
        try:
            return Decimal(str(raw_value)), record_id
        except InvalidOperation as exc:
            raise ValidationError({"cursor": ["Not a cursor from this API."]}) from exc
    return _parse(column, str(raw_value), name) if column.field is None else raw_value, record_id


def _after(column: _Column, descending: bool, value: Any, record_id: uuid.UUID) -> ColumnElement:
    expr = column.expr
    id_beyond = (Record.id < record_id) if descending else (Record.id > record_id)
    # Nulls come last in both directions.
    if value is None:
        return and_(expr.is_(None), id_beyond)
    beyond = (expr < value) if descending else (expr > value)
    if not column.nullable:
        return or_(beyond, and_(expr == value, id_beyond))
    return or_(and_(expr.is_not(None), or_(beyond, and_(expr == value, id_beyond))), expr.is_(None))


def list_records(
    type_name: str,
    *,
    params: dict[str, str] | None = None,
    q: str = "",
    sort: str = "-id",
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    trash: bool = False,
) -> Page:
    """One page of records, in one query whatever its size."""
    require("records.view")
    etype = registry.entity_type(type_name)
    dialect = db.engine.dialect.name
    limit = max(1, min(int(limit), MAX_LIMIT))
    descending = sort.startswith("-")
    sort_name = sort.lstrip("-") or "id"
    column = _column(etype, sort_name, dialect)
    query = db.select(Record, column.expr.label("sort_value")).where(
        Record.entity_type == etype.name,
        Record.merged_into.is_(None),
        Record.deleted_at.is_not(None) if trash else Record.deleted_at.is_(None),
        *filters(etype, params or {}, dialect),
        *_search(q),
    )
    if cursor:
        value, record_id = _decode_cursor(cursor, column, sort_name)
        query = query.where(_after(column, descending, value, record_id))
    order = [column.expr.desc() if descending else column.expr.asc()]
    if column.nullable:
        order.insert(0, column.expr.is_(None))
    if sort_name != "id":
        order.append(Record.id.desc() if descending else Record.id.asc())
    rows = db.session.execute(query.order_by(*order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].sort_value, rows[-1][0].id) if more else None
    return Page([row[0] for row in rows], next_cursor)


__all__ = ["Page", "encode_cursor", "list_records"]
