"""Marshmallow schemas generated from an entity type's metadata.

Every write goes through them: a bad value is a field-level error and nothing is written.
Loaded values are turned into JSON-ready ones (dates as ISO strings, money as a decimal
string, ids as strings) for the record's document.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from twofold.entities.meta import EntityType, Field
from twofold.entities.phones import normalise_phone
from twofold.validation import EmailField

# Keys of a record's JSON form that are not fields; no field may take these names.
RESERVED_NAMES = frozenset(
    {
        "id",
        "type",
        "title",
        "owner_id",
        "pipeline_id",
        "stage_id",
        "stage",
        "stage_entered_at",
        "created_at",
        "updated_at",
        "deleted_at",
        "created_by",
        "merged_into",
    }
)


class PhoneField(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return normalise_phone(super()._deserialize(value, attr, data, **kwargs))


def _text(value: Any) -> bool:
    return isinstance(value, str)


# OpenAPI formats for the document generated from these schemas.
FORMATS = {"email": "email", "phone": "phone", "url": "uri", "reference": "uuid", "user": "uuid"}


def marshmallow_field(f: Field, *, partial: bool) -> fields.Field:
    metadata: dict[str, Any] = {"description": f.help or f.display_label}
    if f.type in FORMATS:
        metadata["format"] = FORMATS[f.type]
    options: dict[str, Any] = {
        "required": f.required and not partial,
        "allow_none": not f.required,
        "metadata": metadata,
    }
    kind = f.type
    if f.column == "currency":
        return fields.String(
            validate=validate.Regexp(r"^[A-Z]{3}$", error="An ISO 4217 code, e.g. RUB."), **options
        )
    if f.column == "status":
        if kind == "choice":
            return fields.String(validate=[validate.Length(max=40), validate.OneOf(f.choices)], **options)
        return fields.String(validate=validate.Length(max=40), **options)
    if kind == "text":
        return fields.String(validate=validate.Length(max=20000), **options)
    if kind == "number":
        return fields.Float(allow_nan=False, **options)
    if kind == "money":
        return fields.Decimal(places=2, allow_nan=False, **options)
    if kind == "date":
        return fields.Date(**options)
    if kind == "datetime":
        return fields.AwareDateTime(default_timezone=dt.UTC, **options)
    if kind == "bool":
        return fields.Boolean(**options)
    if kind == "choice":
        return fields.String(validate=validate.OneOf(f.choices), **options)
    if kind == "multi_choice":
        return fields.List(fields.String(validate=validate.OneOf(f.choices)), **options)
    if kind == "email":
        return EmailField(**options)
    if kind == "phone":
        return PhoneField(**options)
    if kind == "url":
        return fields.Url(schemes={"http", "https"}, **options)
    if kind in ("reference", "user"):
        return fields.UUID(**options)
    raise ValueError(f"unknown field type {kind!r}")


def _build_schema(etype: EntityType, partial: bool) -> Schema:
    declared = {f.name: marshmallow_field(f, partial=partial) for f in etype.fields}
    declared["owner_id"] = fields.UUID(allow_none=True)
    schema_class = Schema.from_dict(declared, name=f"{etype.name.title()}Schema")
    return schema_class(unknown="raise")


@functools.lru_cache(maxsize=512)
def _cached_schema(etype: EntityType, partial: bool) -> Schema:
    return _build_schema(etype, partial)


def schema_for(etype: EntityType, *, partial: bool = False) -> Schema:
    """The schema of a type, built once per distinct type (a custom field makes a new one).

    Building one (a class per type) costs more than validating a record with it, and an
    import validates thousands; a loaded schema keeps no state between loads.
    """
    try:
        return _cached_schema(etype, partial)
    except TypeError:  # a field's default is a list: the type is not hashable
        return _build_schema(etype, partial)


def to_json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def load(etype: EntityType, data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validated, normalised values; defaults filled in on create."""
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["Send an object of field values."]})
    clean = schema_for(etype, partial=partial).load(data)
    if not partial:
        for f in etype.fields:
            if f.name not in clean and f.default is not None:
                clean[f.name] = f.default
    return clean


def blank(value: Any) -> bool:
    return value is None or value == "" or value == []
