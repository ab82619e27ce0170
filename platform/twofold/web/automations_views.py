"""Automations: the rules list, a no-code rule builder, each rule's run log and the failed jobs.

Saving goes through :class:`twofold.api.automations.RuleSchema`, the same validation as
``POST /api/v1/automations/rules``; failed jobs use the API's own lookup and requeue.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from twofold.api import automations as service
from twofold.auth.permissions import require
from twofold.automations import core_actions, run_log
from twofold.automations.engine import OPS, TRIGGER_TYPES
from twofold.automations.models import Rule, RuleRun
from twofold.db import db, utcnow
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web.forms import attempt

bp = tenant_blueprint("automations", __name__, url_prefix="/automations")

EVENT_KINDS = ("record.created", "record.updated", "record.deleted", "record.restored", "record.merged",
               "field.changed", "stage.changed")


def _rule(rule_id: uuid.UUID) -> Rule:
    try:
        return service._rule(rule_id)
    except NotFound:
        abort(404)


def _action_types() -> list[str]:
    return sorted(set(core_actions.CORE_ACTIONS) | set(registry.current().actions))


def _params(raw: str) -> dict[str, str]:
    out = {}
    for line in raw.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def _posted() -> dict[str, Any]:
    """The builder's form as the API's rule body."""
    form = request.form
    trigger: dict[str, Any] = {"type": form.get("trigger_type", "")}
    if form.get("trigger_event") and trigger["type"] in ("event", "delay"):
        trigger["event"] = form["trigger_event"]
    for key in ("minutes", "every_minutes"):
        raw = form.get(f"trigger_{key}", "").strip()
        if raw:
            trigger[key] = raw
    conditions = [
        {"field": f, "op": o, "value": v}
        for f, o, v in zip(form.getlist("cond_field"), form.getlist("cond_op"), form.getlist("cond_value"),
                           strict=False)
        if f or v
    ]
    actions = [
        {"type": t, "params": _params(p)}
        for t, p in zip(form.getlist("action_type"), form.getlist("action_params"), strict=False)
        if t
    ]
    return {
        "name": form.get("name", "").strip(), "enabled": form.get("enabled") == "on",
        "entity_type": form.get("entity_type", ""), "trigger": trigger,
        "conditions": conditions, "actions": actions,
    }


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow errors as ``trigger.event`` / ``conditions.0.field`` keys."""
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": messages}
    return {prefix or "_schema": [str(messages)]}


def _form_of(rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {"name": "", "enabled": True, "entity_type": "",
                "trigger": {"type": "event", "event": "record.created"}, "conditions": [], "actions": []}
    return service.rule_json(rule)


def _builder(rule: Rule | None, form: dict[str, Any], errors: dict[str, list[str]]) -> str:
    types = registry.current().entity_types
    type_fields = {
        name: [f.name for f in t.fields] + ["owner_id", "stage_id"] for name, t in types.items()
    }
    return render_template(
        "automations/builder.html", rule=rule, form=form, errors=errors, types=types,
        type_fields=type_fields, trigger_types=TRIGGER_TYPES, ops=OPS, event_kinds=EVENT_KINDS,
        action_types=_action_types(),
    )


def _save(rule: Rule | None) -> Any:
    body = _posted()
    data, errors = attempt(lambda: service.RuleSchema().load(body))
    if data is None:
        return _builder(rule, body, _flatten(errors)), 422
    if rule is None:
        rule = Rule(**data, state={}, pack="")
        db.session.add(rule)
    else:
        for key, value in data.items():
            setattr(rule, key, value)
        rule.updated_at = utcnow()
    db.session.commit()
    flash(f"Rule “{rule.name}” saved.")
    return redirect(url_for(".rules"))


@bp.get("/")
def rules() -> Any:
    require("automations.manage")
    rows = list(db.session.scalars(db.select(Rule).order_by(Rule.created_at, Rule.id)))
    last: dict[uuid.UUID, RuleRun] = {}
    if rows:
        for run in db.session.scalars(
            db.select(RuleRun).where(RuleRun.rule_id.in_([r.id for r in rows])).order_by(RuleRun.started_at)
        ):
            last[run.rule_id] = run
    return render_template("automations/rules.html", rules=rows, last=last)


@bp.get("/new")
def new() -> Any:
    require("automations.manage")
    return _builder(None, _form_of(None), {})


@bp.post("/new")
def create() -> Any:
    require("automations.manage")
    return _save(None)


@bp.get("/<uuid:rule_id>/edit")
def edit(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    rule = _rule(rule_id)
    return _builder(rule, _form_of(rule), {})


@bp.post("/<uuid:rule_id>/edit")
def update(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    return _save(_rule(rule_id))


@bp.post("/<uuid:rule_id>/toggle")
def toggle(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    rule = _rule(rule_id)
    rule.enabled = not rule.enabled
    rule.updated_at = utcnow()
    db.session.commit()
    flash(f"Rule “{rule.name}” {'enabled' if rule.enabled else 'disabled'}.")
    return redirect(url_for(".rules"))


@bp.get("/<uuid:rule_id>/runs")
def runs(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    rule = _rule(rule_id)
    rows, actions = run_log.recent_runs(rule)
    return render_template("automations/runs.html", rule=rule, runs=rows, actions=actions)


@bp.get("/failed-jobs")
def failed_jobs() -> Any:
    require("automations.manage")
    found = [
        {
            "id": job.id, "queue": name, "func": job.args[0].get("func"),
            "failed_at": job.ended_at,
            "error": (job.latest_result().exc_string if job.latest_result() else None),
        }
        for name, job in service._own_failed_jobs()
    ]
    return render_template("automations/failed_jobs.html", jobs=found)


@bp.post("/failed-jobs/<job_id>/retry")
def retry(job_id: str) -> Any:
    require("automations.manage")
    try:
        service.retry_failed_job(job_id)
    except NotFound:
        abort(404)
    flash("Job queued again.")
    return redirect(url_for(".failed_jobs"))
