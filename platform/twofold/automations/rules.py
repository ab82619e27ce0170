"""Automation rules as a service: validation, reading and writing, for the API and the pages.

A rule body is validated here once, the same way for ``POST /api/v1/automations/rules`` and
the no-code builder: the trigger's shape, conditions on fields the record type has, known
actions and each action's params (an action may check its params when the rule is saved,
see :func:`twofold.automations.core_actions.param_errors`). The caller commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from twofold.auth.permissions import require
from twofold.automations import core_actions
from twofold.automations.engine import OPS, TRIGGER_TYPES
from twofold.automations.models import Rule
from twofold.db import db, utcnow
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.tenancy.scope import current_tenant_id


class TriggerSchema(Schema):
    class Meta:
        unknown = "raise"

    type = fields.String(required=True, validate=validate.OneOf(TRIGGER_TYPES))
    event = fields.String()
    filters = fields.Dict(keys=fields.String())
    minutes = fields.Integer(validate=validate.Range(min=0))
    every_minutes = fields.Integer(validate=validate.Range(min=1))

    @validates_schema
    def _shape(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("type")
        if kind in ("event", "delay") and not data.get("event"):
            raise ValidationError({"event": ["An event trigger names its event."]})
        if kind in ("no_activity", "delay") and data.get("minutes") is None:
            raise ValidationError({"minutes": ["Give the minutes."]})


class ConditionSchema(Schema):
    class Meta:
        unknown = "raise"

    field = fields.String(required=True)
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    value = fields.Raw(allow_none=True)


class ActionSchema(Schema):
    class Meta:
        unknown = "raise"

    type = fields.String(required=True)
    params = fields.Dict(keys=fields.String(), load_default=dict)

    @validates_schema
    def _known(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("type", "")
        if not core_actions.known(kind):
            raise ValidationError({"type": [f"No action {kind!r}."]})
        # Bad params fail now, beside the field, not later in a run log.
        errors = core_actions.param_errors(kind, data.get("params") or {})
        if errors:
            raise ValidationError({"params": errors})


class RuleSchema(Schema):
    class Meta:
        unknown = "raise"

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    enabled = fields.Boolean(load_default=True)
    entity_type = fields.String(load_default="")
    trigger = fields.Nested(TriggerSchema, required=True)
    conditions = fields.List(fields.Nested(ConditionSchema), load_default=list)
    actions = fields.List(fields.Nested(ActionSchema), required=True)

    @validates_schema
    def _fields_exist(self, data: dict[str, Any], **_: Any) -> None:
        type_name = data.get("entity_type")
        if not type_name:
            return
        types = registry.current().entity_types
        if type_name not in types:
            raise ValidationError({"entity_type": [f"No entity type {type_name!r}."]})
        names = {f.name for f in types[type_name].fields} | {"owner_id", "stage_id"}
        errors = {
            str(i): {"field": [f"No field {c['field']!r} on {type_name}."]}
            for i, c in enumerate(data.get("conditions") or [])
            if c.get("field") not in names
        }
        if errors:
            raise ValidationError({"conditions": errors})


EDITABLE = tuple(RuleSchema().fields)


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": str(rule.id), "name": rule.name, "enabled": rule.enabled, "entity_type": rule.entity_type,
        "trigger": rule.trigger, "conditions": rule.conditions, "actions": rule.actions,
        "template_key": rule.template_key, "pack": rule.pack,
        "created_at": rule.created_at.isoformat(), "updated_at": rule.updated_at.isoformat(),
    }


def get_rule(rule_id: uuid.UUID) -> Rule:
    """The current tenant's rule; :class:`NotFound` for another tenant's id as for none."""
    require("automations.manage")
    rule = db.session.get(Rule, (current_tenant_id(), rule_id))
    if rule is None:
        raise NotFound(str(rule_id))
    return rule


def list_rules() -> list[Rule]:
    require("automations.manage")
    return list(db.session.scalars(db.select(Rule).order_by(Rule.created_at, Rule.id)))


def create_rule(body: dict[str, Any]) -> Rule:
    """Validate ``body`` (raises marshmallow's ValidationError) and add the rule."""
    require("automations.manage")
    data = RuleSchema().load(body)
    rule = Rule(**data, state={}, pack="")
    db.session.add(rule)
    return rule


def update_rule(rule: Rule, changes: dict[str, Any]) -> Rule:
    """Apply ``changes`` over the rule's current body, validated as a whole."""
    require("automations.manage")
    current = {k: v for k, v in rule_json(rule).items() if k in EDITABLE}
    data = RuleSchema().load({**current, **changes})
    for key, value in data.items():
        setattr(rule, key, value)
    rule.updated_at = utcnow()
    return rule


def set_enabled(rule: Rule, enabled: bool) -> Rule:
    require("automations.manage")
    rule.enabled = enabled
    rule.updated_at = utcnow()
    return rule


def delete_rule(rule: Rule) -> None:
    require("automations.manage")
    db.session.delete(rule)
