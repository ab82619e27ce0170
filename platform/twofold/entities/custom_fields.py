"""Fields a tenant admin adds to an entity type at run time.

They appear at once in forms, lists, the API and the OpenAPI document, because all of
those read the tenant's registry, which merges these rows into the plugin's type.
"""

from __future__ import annotations

import re
import uuid

from marshmallow import fields, validate, validates_schema

from twofold.auth import security_log
from twofold.auth.permissions import require
from twofold.db import db
from twofold.entities import indexes
from twofold.entities.meta import FIELD_TYPES, Field
from twofold.entities.models import CustomField
from twofold.entities.schemas import RESERVED_NAMES
from twofold.tenancy.scope import current_tenant_id
from twofold.validation import StrictSchema, ValidationError, field_error

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def custom_fields_by_type() -> dict[str, list[Field]]:
    rows = db.session.scalars(db.select(CustomField).order_by(CustomField.position, CustomField.created_at))
    out: dict[str, list[Field]] = {}
    for row in rows:
        out.setdefault(row.entity_type, []).append(as_field(row))
    return out


def as_field(row: CustomField) -> Field:
    return Field(
        name=row.name,
        type=row.type,
        label=row.label,
        required=row.required,
        unique=row.unique,  # type: ignore[arg-type]
        indexed=row.indexed or row.unique,
        personal=row.personal,
        default=row.default,
        choices=tuple(row.choices or ()),
        reference=row.reference,
        custom=True,
    )


class CustomFieldSchema(StrictSchema):
    name = fields.String(required=True)
    label = fields.String(load_default="", validate=validate.Length(max=200))
    type = fields.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    required = fields.Boolean(load_default=False)
    unique = fields.Boolean(load_default=False)
    indexed = fields.Boolean(load_default=False)
    personal = fields.Boolean(load_default=False)
    choices = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)
    reference = fields.String(load_default=None, allow_none=True)
    default = fields.Raw(load_default=None, allow_none=True)

    @validates_schema
    def _consistent(self, data: dict, **_: object) -> None:
        if not NAME_PATTERN.match(data["name"]):
            raise field_error("name", "Lowercase letters, digits and underscores, starting with a letter.")
        if data["name"] in RESERVED_NAMES:
            raise field_error("name", "This name is reserved; choose another.")
        if data["type"] in ("choice", "multi_choice") and not data["choices"]:
            raise field_error("choices", "List the choices.")
        if data["type"] == "reference" and not data.get("reference"):
            raise field_error("reference", "Name the entity type this field points at.")


def add(entity_type: str, data: dict) -> CustomField:
    from twofold.packs import registry

    actor = require("fields.manage")
    etype = registry.entity_type(entity_type)
    clean = CustomFieldSchema().load(data)
    if etype.field(clean["name"]) is not None:
        raise field_error("name", f"{etype.label} already has a field named {clean['name']}.")
    if clean["type"] == "reference" and clean["reference"] not in registry.current().entity_types:
        raise field_error("reference", "No such entity type.")
    if clean["default"] is not None:
        from twofold.entities.schemas import marshmallow_field

        probe = Field(name=clean["name"], type=clean["type"], choices=tuple(clean["choices"]))
        try:
            marshmallow_field(probe, partial=True).deserialize(clean["default"])
        except ValidationError as exc:
            raise field_error("default", " ".join(map(str, exc.messages))) from exc
    position = len(etype.fields)
    row = CustomField(entity_type=entity_type, position=position, **clean)
    db.session.add(row)
    db.session.flush()
    registry.forget()
    if row.indexed or row.unique:
        indexes.ensure_field_index(entity_type, as_field(row))
    security_log.record("field.added", user_id=actor.user_id, entity_type=entity_type, field=row.name)
    return row


def remove(entity_type: str, field_id: uuid.UUID) -> None:
    """Remove a custom field; values already stored stay in the records' documents."""
    from twofold.packs import registry

    actor = require("fields.manage")
    row = db.session.get(CustomField, (current_tenant_id(), field_id))
    if row is None or row.entity_type != entity_type:
        raise LookupError(str(field_id))
    db.session.delete(row)
    registry.forget()
    security_log.record("field.removed", user_id=actor.user_id, entity_type=entity_type, field=row.name)


def list_for(entity_type: str) -> list[CustomField]:
    return list(
        db.session.scalars(
            db.select(CustomField)
            .where(CustomField.entity_type == entity_type)
            .order_by(CustomField.position)
        )
    )
