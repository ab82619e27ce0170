"""Settings → Channels: connect chat channels and edit the bot flows they run (admins, owners).

Thin views over :mod:`twofold.channels.service`, the same calls the API makes: the service
checks ``channels.manage`` and validates, the pages put its field errors beside the inputs.
A flow is edited either field by field (the structured editor) or as its JSON; both save
through ``service.save_flow``, which refuses a broken flow with every reason and changes
nothing. Adding, removing and moving steps are form submits the server answers with the
edited form (unsaved), so the editor works with a keyboard and without JavaScript;
``static/flow_editor.js`` only hides the fields a channel kind does not use.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from twofold.auth.permissions import require
from twofold.channels import flows, kinds
from twofold.channels import service as channels
from twofold.channels.models import BotFlow, Channel
from twofold.db import db
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web.forms import attempt

bp = tenant_blueprint("channels", __name__, url_prefix="/settings/channels")

PERMISSION = "channels.manage"
# The widget kind's script route (its own module, written alongside): the first that exists.
WIDGET_SCRIPTS = ("widget.script", "channel_widget.script")
# The fields each kind's connect form asks for (service.connect reads them from settings).
KIND_FIELDS = {"telegram": ("token",), "json": ("reply_url",)}
_FORM_FIELDS = {"kind", "name", "flow", "token", "reply_url"}


# --- channels ---------------------------------------------------------------------------


def _addresses(channel: Channel) -> dict[str, str]:
    """Where the outside world reaches a channel: its webhook, or the widget's snippet."""
    out: dict[str, str] = {}
    if channel.kind == "telegram":
        out["webhook"] = channels.public_url("channel_hooks.telegram", channel_id=channel.id)
    elif channel.kind == "widget":
        # Without the widget's script route (its module not loaded) there is no snippet to give.
        endpoint = next((e for e in WIDGET_SCRIPTS if e in current_app.view_functions), None)
        if endpoint is not None:
            src = channels.public_url(endpoint, channel_id=channel.id)
            out["snippet"] = f'<script src="{src}" async></script>'
    else:
        out["webhook"] = channels.public_url("channel_hooks.channel", channel_id=channel.id)
    return out


def _channels_page(form: Any, errors: dict[str, list[str]], created: dict[str, Any] | None = None) -> str:
    available = kinds.available()
    rows = [{"channel": c, **_addresses(c)} for c in channels.channels()]
    flow_names = {f.key: f.name for f in channels.bot_flows()}
    return render_template(
        "channels/settings.html", rows=rows, kinds=available, flows=flow_names, form=form,
        errors=errors, created=created, kind_fields=KIND_FIELDS,
        other_errors=[m for k, ms in errors.items() if k not in _FORM_FIELDS for m in ms],
    )


@bp.get("/")
def settings() -> Any:
    require(PERMISSION)
    return _channels_page({}, {})


@bp.post("/")
def connect() -> Any:
    require(PERMISSION)
    form = request.form
    kind = form.get("kind", "")
    settings_ = {name: form.get(name, "") for name in KIND_FIELDS.get(kind, ())}
    result, errors = attempt(
        lambda: channels.connect(kind, form.get("name", ""), form.get("flow") or None, settings_)
    )
    if result is None:
        # The token is a secret: it is not echoed back into the page.
        return _channels_page({k: v for k, v in form.items() if k != "token"}, errors), 422
    channel, shown = result
    created = {"channel": channel, "secrets": shown, **_addresses(channel)}
    db.session.commit()
    # The secrets are in this answer only: a reload shows the list without them.
    return _channels_page({}, {}, created=created)


@bp.post("/<uuid:channel_id>/enable")
def enable(channel_id: uuid.UUID) -> Any:
    channel = channels.update(channel_id, enabled=True)
    db.session.commit()
    flash(f"“{channel.name}” enabled: it answers clients again.")
    return redirect(url_for(".settings"))


@bp.post("/<uuid:channel_id>/disable")
def disable(channel_id: uuid.UUID) -> Any:
    channel = channels.update(channel_id, enabled=False)
    db.session.commit()
    flash(f"“{channel.name}” disabled: messages to it are not answered until you enable it again.")
    return redirect(url_for(".settings"))


@bp.post("/<uuid:channel_id>/flow")
def change_flow(channel_id: uuid.UUID) -> Any:
    require(PERMISSION)
    flow_key = request.form.get("flow", "")
    channel, errors = attempt(lambda: channels.update(channel_id, flow_key=flow_key))
    if channel is None:
        flash(" ".join(m for ms in errors.values() for m in ms), "error")
        return redirect(url_for(".settings"))
    db.session.commit()
    flash(f"“{channel.name}” now runs {('the flow “' + flow_key + '”') if flow_key else 'no bot flow'}.")
    return redirect(url_for(".settings"))


# --- bot flows --------------------------------------------------------------------------


def _flow(key: str) -> BotFlow:
    row = next((f for f in channels.bot_flows() if f.key == key), None)
    if row is None:
        raise NotFound("bot flow")
    return row


@bp.get("/flows")
def flows_list() -> Any:
    require(PERMISSION)
    used: dict[str, list[str]] = {}
    for channel in channels.channels():
        if channel.flow_key:
            used.setdefault(channel.flow_key, []).append(channel.name)
    return render_template("channels/flows.html", flows=channels.bot_flows(), used=used)


def _targets(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """``(value, label)`` for every field a step can fill: each record of the flow's fields."""
    types = registry.current().entity_types
    out: list[tuple[str, str]] = []
    for alias, type_name in flows.records(definition):
        etype = types.get(type_name)
        for field in etype.fields if etype is not None else ():
            out.append((f"{alias}.{field.name}", f"{alias} → {field.display_label}"))
    return out


def _next_text(rule: Any) -> str:
    if isinstance(rule, dict):
        return "\n".join(f"{choice} = {key}" for choice, key in rule.items())
    return str(rule or "")


def _as_form(definition: dict[str, Any]) -> dict[str, Any]:
    """The stored definition as the editor's values (one dict per step, text for lists)."""
    return {
        "name": definition.get("name") or "",
        "greeting": definition.get("greeting") or "",
        "done": definition.get("done") or "",
        "steps": [
            {
                "key": s.get("key") or "",
                "question": s.get("question") or "",
                "input": s.get("input") or "text",
                "choices": "\n".join(str(c) for c in s.get("choices") or []),
                "target": s.get("target") or "",
                "reask": s.get("reask") or "",
                "next": _next_text(s.get("next")),
            }
            for s in flows.steps(definition) if isinstance(s, dict)
        ],
    }


STEP_FIELDS = ("key", "question", "input", "choices", "target", "reask", "next")


def _posted_steps(form: MultiDict) -> list[dict[str, str]]:
    """The steps as posted: ``steps-<n>-<field>``, in the order of n."""
    parts = (k.split("-") for k in form if k.startswith("steps-"))
    numbers = sorted({int(p[1]) for p in parts if len(p) == 3 and p[1].isdigit()})
    return [{f: form.get(f"steps-{n}-{f}", "") for f in STEP_FIELDS} for n in numbers]


def _parse_next(text: str, where: str) -> tuple[Any, list[str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None, []
    if len(lines) == 1 and "=" not in lines[0]:
        return lines[0], []
    rule: dict[str, str] = {}
    for line in lines:
        choice, sep, key = line.partition("=")
        if not sep or not choice.strip() or not key.strip():
            return None, [f"{where}: write “next” as one step key, or one “choice = step” a line ({line!r})."]
        rule[choice.strip()] = key.strip()
    return rule, []


def _definition_from(stored: dict[str, Any], values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The editor's values as a definition; records and links are kept from the stored one."""
    problems: list[str] = []
    found = []
    for index, raw in enumerate(values["steps"], start=1):
        where = f"step {raw['key'].strip()!r}" if raw["key"].strip() else f"step {index}"
        step: dict[str, Any] = {"key": raw["key"].strip(), "question": raw["question"].strip(),
                                "input": raw["input"] or "text"}
        choices = [c.strip() for c in raw["choices"].splitlines() if c.strip()]
        if step["input"] == "choice" or choices:
            step["choices"] = choices
        if raw["target"].strip():
            step["target"] = raw["target"].strip()
        if raw["reask"].strip():
            step["reask"] = raw["reask"].strip()
        rule, errors = _parse_next(raw["next"], where)
        problems += errors
        if rule:
            step["next"] = rule
        found.append(step)
    definition = {
        **stored, "name": values["name"].strip() or stored.get("name"),
        "greeting": values["greeting"].strip(), "done": values["done"].strip(), "steps": found,
    }
    return definition, problems


def _apply_op(steps: list[dict[str, str]], op: str) -> tuple[list[dict[str, str]], int | None]:
    """Add, remove or move a step in the unsaved form; returns the steps and the one to focus."""
    action, _, number = op.partition(":")
    blank = {f: "" for f in STEP_FIELDS} | {"input": "text"}
    if action == "add":
        return [*steps, blank], len(steps)
    if not number.isdigit() or int(number) >= len(steps):
        return steps, None
    i = int(number)
    out = list(steps)
    if action == "remove":
        del out[i]
        return out, min(i, len(out) - 1) if out else None
    if action == "up" and i > 0:
        out[i - 1], out[i] = out[i], out[i - 1]
        return out, i - 1
    if action == "down" and i + 1 < len(out):
        out[i], out[i + 1] = out[i + 1], out[i]
        return out, i + 1
    return out, i


def _preview(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps as the bot asks them, with where each answer leads."""
    found = [s for s in flows.steps(definition) if isinstance(s, dict)]
    keys = [s.get("key") for s in found]
    out = []
    for index, step in enumerate(found):
        rule = step.get("next")
        following = keys[index + 1] if index + 1 < len(keys) else None
        if isinstance(rule, dict):
            leads = [f"“{c}” → {k}" for c, k in rule.items() if c != "*"]
            other = rule.get("*", following or flows.END)
            leads.append(f"any other answer → {other}")
            then = "; ".join(leads)
        else:
            then = str(rule or following or flows.END)
        out.append({"key": step.get("key"), "question": step.get("question"), "then": then,
                    "choices": step.get("choices") or [], "input": step.get("input") or "text"})
    return out


def _editor(row: BotFlow, values: dict[str, Any], *, problems: list[str] | None = None,
            json_text: str | None = None, json_problems: list[str] | None = None,
            preview_of: dict[str, Any] | None = None, focus: int | None = None) -> str:
    definition = row.definition or {}
    if json_text is None:
        json_text = json.dumps(definition, indent=2, ensure_ascii=False)
    targets = _targets(definition)
    known = {value for value, _label in targets}
    # A target the form holds but the records lack still shows, so the admin sees what they had.
    extra = sorted({s["target"] for s in values["steps"] if s["target"] and s["target"] not in known})
    return render_template(
        "channels/flow.html", row=row, values=values, targets=targets, extra_targets=extra,
        inputs=flows.INPUTS, problems=problems or [], json_problems=json_problems or [],
        json_text=json_text,
        preview=_preview(preview_of if preview_of is not None else definition),
        records=dict(flows.records(definition)), focus=focus,
    )


@bp.get("/flows/<key>")
def flow(key: str) -> Any:
    require(PERMISSION)
    row = _flow(key)
    return _editor(row, _as_form(row.definition or {}))


@bp.post("/flows/<key>")
def save_flow(key: str) -> Any:
    require(PERMISSION)
    row = _flow(key)
    form = request.form
    values = {name: form.get(name, "") for name in ("name", "greeting", "done")}
    values["steps"] = _posted_steps(form)
    op = form.get("op", "save")
    if op != "save":
        values["steps"], focus = _apply_op(values["steps"], op)
        return _editor(row, values, focus=focus)
    definition, problems = _definition_from(row.definition or {}, values)
    if not problems:
        _saved, errors = attempt(lambda: channels.save_flow(key, definition))
        problems = [m for ms in errors.values() for m in ms]
    if problems:
        return _editor(row, values, problems=problems, preview_of=definition), 422
    db.session.commit()
    flash(f"“{row.name}” saved. New conversations follow it; ones under way finish with the steps they have.")
    return redirect(url_for(".flow", key=key))


@bp.post("/flows/<key>/json")
def save_flow_json(key: str) -> Any:
    require(PERMISSION)
    row = _flow(key)
    text = request.form.get("definition", "")
    try:
        definition = json.loads(text)
    except ValueError as exc:
        return _editor(row, _as_form(row.definition or {}), json_text=text,
                       json_problems=[f"That is not valid JSON: {exc}."]), 422
    _saved, errors = attempt(lambda: channels.save_flow(key, definition))
    if errors:
        problems = [m for ms in errors.values() for m in ms]
        return _editor(row, _as_form(row.definition or {}), json_text=text, json_problems=problems), 422
    db.session.commit()
    flash(f"“{row.name}” saved from its JSON.")
    return redirect(url_for(".flow", key=key))
