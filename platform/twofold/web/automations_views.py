"""Automations: the rules list, a no-code rule builder, each rule's run log and the failed jobs.

Saving goes through :mod:`twofold.automations.rules`, the same service (and validation) as
``POST /api/v1/automations/rules``; failed jobs through :mod:`twofold.automations.failed_jobs`.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from twofold.auth.permissions import require
from twofold.automations import core_actions, run_log
from twofold.automations import failed_jobs as failed
from twofold.automations import rules as service
from twofold.automations.engine import OPS, TRIGGER_TYPES
from twofold.automations.models import Rule
from twofold.db import db
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web.forms import attempt

bp = tenant_blueprint("automations", __name__, url_prefix="/automations")

EVENT_KINDS = ("record.created", "record.updated", "record.deleted", "record.restored", "record.merged",
               "field.changed", "stage.changed")


def _rule(rule_id: uuid.UUID) -> Rule:
    try:
        return service.get_rule(rule_id)
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


def _param_errors(errors: dict[str, list[str]]) -> dict[str, list[tuple[str, list[str]]]]:
    """``actions.<i>.params.<name>`` errors as {"<i>": [(name, messages)]}, for each action row."""
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for key, messages in errors.items():
        parts = key.split(".", 3)
        if len(parts) == 4 and parts[0] == "actions" and parts[2] == "params":
            out.setdefault(parts[1], []).append((parts[3], messages))
    return out


def _builder(rule: Rule | None, form: dict[str, Any], errors: dict[str, list[str]]) -> str:
    types = registry.current().entity_types
    type_fields = {
        name: [f.name for f in t.fields] + ["owner_id", "stage_id"] for name, t in types.items()
    }
    return render_template(
        "automations/builder.html", rule=rule, form=form, errors=errors, param_errors=_param_errors(errors),
        types=types,
        type_fields=type_fields, trigger_types=TRIGGER_TYPES, ops=OPS, event_kinds=EVENT_KINDS,
        action_types=_action_types(),
    )


def _save(rule: Rule | None) -> Any:
    body = _posted()
    if rule is None:
        saved, errors = attempt(lambda: service.create_rule(body))
    else:
        saved, errors = attempt(lambda: service.update_rule(rule, body))
    if saved is None:
        return _builder(rule, body, _flatten(errors)), 422
    db.session.commit()
    flash(f"Rule “{saved.name}” saved.")
    return redirect(url_for(".rules"))


@bp.get("/")
def rules() -> Any:
    require("automations.manage")
    rows = service.list_rules()
    return render_template("automations/rules.html", rules=rows, last=run_log.last_runs(rows))


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
    service.set_enabled(rule, not rule.enabled)
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
    return render_template("automations/failed_jobs.html", jobs=failed.own_failed_jobs())


@bp.post("/failed-jobs/<job_id>/retry")
def retry(job_id: str) -> Any:
    require("automations.manage")
    try:
        failed.retry(job_id)
    except NotFound:
        abort(404)
    flash("Job queued again.")
    return redirect(url_for(".failed_jobs"))
