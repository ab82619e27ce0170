"""Automation rules, their run log, and the tenant's failed jobs in the API (admins only)."""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from rq.job import Job
from rq.registry import FailedJobRegistry

from twofold import jobs
from twofold.api import bp
from twofold.api.helpers import json_body
from twofold.auth.permissions import require
from twofold.automations import core_actions, run_log
from twofold.automations.engine import OPS, TRIGGER_TYPES
from twofold.automations.models import Rule
from twofold.db import db, utcnow
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.redis_conn import get_redis
from twofold.tenancy.scope import current_tenant_id

JOB_QUEUES = (jobs.DEFAULT_QUEUE, "mail", "events")


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
        if not core_actions.known(data.get("type", "")):
            raise ValidationError({"type": [f"No action {data.get('type')!r}."]})


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


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": str(rule.id), "name": rule.name, "enabled": rule.enabled, "entity_type": rule.entity_type,
        "trigger": rule.trigger, "conditions": rule.conditions, "actions": rule.actions,
        "template_key": rule.template_key, "pack": rule.pack,
        "created_at": rule.created_at.isoformat(), "updated_at": rule.updated_at.isoformat(),
    }


def _rule(rule_id: uuid.UUID) -> Rule:
    rule = db.session.get(Rule, (current_tenant_id(), rule_id))
    if rule is None:
        raise NotFound(str(rule_id))
    return rule


@bp.get("/automations/rules")
def list_rules() -> Any:
    require("automations.manage")
    rules = db.session.scalars(db.select(Rule).order_by(Rule.created_at, Rule.id))
    return {"data": [rule_json(r) for r in rules]}


@bp.post("/automations/rules")
def create_rule() -> Any:
    require("automations.manage")
    data = RuleSchema().load(json_body())
    rule = Rule(**data, state={}, pack="")
    db.session.add(rule)
    db.session.commit()
    return rule_json(rule), 201


@bp.get("/automations/rules/<uuid:rule_id>")
def get_rule(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    return rule_json(_rule(rule_id))


@bp.patch("/automations/rules/<uuid:rule_id>")
def update_rule(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    rule = _rule(rule_id)
    current = {k: v for k, v in rule_json(rule).items() if k in RuleSchema().fields}
    data = RuleSchema().load({**current, **json_body()})
    for key, value in data.items():
        setattr(rule, key, value)
    rule.updated_at = utcnow()
    db.session.commit()
    return rule_json(rule)


@bp.delete("/automations/rules/<uuid:rule_id>")
def delete_rule(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    db.session.delete(_rule(rule_id))
    db.session.commit()
    return "", 204


@bp.get("/automations/rules/<uuid:rule_id>/runs")
def rule_runs(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    runs, actions = run_log.recent_runs(_rule(rule_id))
    return {"data": [
        {
            "id": str(run.id), "trigger_key": run.trigger_key, "status": run.status,
            "event_id": str(run.event_id) if run.event_id else None,
            "record_id": str(run.record_id) if run.record_id else None,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "actions": [
                {"index": a.index, "type": a.type, "status": a.status, "result": a.result, "error": a.error}
                for a in actions.get(run.id, [])
            ],
        }
        for run in runs
    ]}


def _own_failed_jobs() -> list[tuple[str, Job]]:
    tenant_hex = current_tenant_id().hex
    connection = get_redis()
    found = []
    for name in JOB_QUEUES:
        registry_ = FailedJobRegistry(name, connection=connection)
        for job in Job.fetch_many(registry_.get_job_ids(), connection=connection):
            if job is None or not job.args:
                continue
            call = job.args[0]
            if isinstance(call, dict) and call.get("tenant_id") == tenant_hex:
                found.append((name, job))
    return found


@bp.get("/automations/failed-jobs")
def failed_jobs() -> Any:
    require("automations.manage")
    return {"data": [
        {
            "id": job.id, "queue": name, "func": job.args[0].get("func"),
            "failed_at": job.ended_at.isoformat() if job.ended_at else None,
            "error": (job.latest_result().exc_string if job.latest_result() else None),
        }
        for name, job in _own_failed_jobs()
    ]}


@bp.post("/automations/failed-jobs/<job_id>/retry")
def retry_failed_job(job_id: str) -> Any:
    require("automations.manage")
    for name, job in _own_failed_jobs():
        if job.id == job_id:
            FailedJobRegistry(name, connection=get_redis()).requeue(job)
            return {"id": job.id, "queue": name, "status": "queued"}
    raise NotFound(job_id)
