"""The core's automation actions, and the dispatch to plugin actions.

Each action gets the rule, the run, its params and an idempotency key (``<run>:<index>``).
An action that cannot do its work raises :class:`ActionFailed` (a failed ActionRun, with
the reason as its error); anything else is transient and makes RQ retry the job.

An action may also name a params check (``@core(name, check=...)``; a plugin's
``ActionSpec.check_params``): it runs when a rule is saved, so a param that can never work
is a field error in the builder and the API, not a failed run found later.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func

from twofold import jobs
from twofold.auth.models import Membership
from twofold.automations.engine import ActionFailed, record_values
from twofold.automations.models import Rule, RuleRun
from twofold.db import db
from twofold.entities.models import Record
from twofold.exceptions import NotFound
from twofold.plugins import PluginFailed
from twofold.validation import ValidationError

Action = Callable[[Rule, RuleRun, dict[str, Any], str], str | None]
# Params -> errors by param name; empty when the params are fine.
ParamsCheck = Callable[[dict[str, Any]], dict[str, list[str]]]
CORE_ACTIONS: dict[str, Action] = {}
PARAM_CHECKS: dict[str, ParamsCheck] = {}
WEBHOOK_TIMEOUT = 10
log = logging.getLogger(__name__)


class Wait(Exception):  # a signal to the engine, not an error
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def core(name: str, *, check: ParamsCheck | None = None) -> Callable[[Action], Action]:
    def register(func: Action) -> Action:
        CORE_ACTIONS[name] = func
        if check is not None:
            PARAM_CHECKS[name] = check
        return func

    return register


def param_errors(name: str, params: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with an action's params, by param name, as far as can be told now."""
    check = PARAM_CHECKS.get(name)
    plugin = ""
    if check is None and name not in CORE_ACTIONS:
        from twofold.packs import registry

        spec = registry.current().actions.get(name)
        check, plugin = (spec.check_params, spec.pack) if spec else (None, "")
    if check is None:
        return {}
    try:
        return check(params)
    except Exception:  # a pack's broken check is contained: the rule is refused, saying why
        log.exception("plugin '%s' failed checking the params of %s", plugin or "core", name)
        return {"_schema": [f"The {plugin or 'core'} pack could not check these parameters."]}


def known(name: str) -> bool:
    if name in CORE_ACTIONS:
        return True
    from twofold.packs import registry

    return name in registry.current().actions


def execute(name: str, rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str | None:
    try:
        if name in CORE_ACTIONS:
            return CORE_ACTIONS[name](rule, run, params, key)
        from twofold.automations.actions import run_action

        if run.record_id is None:
            raise ActionFailed(f"{name} needs a record")
        return run_action(name, run.entity_type, run.record_id, params, idempotency_key=key)
    except (ValidationError, NotFound, PluginFailed) as exc:
        raise ActionFailed(_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    if messages:
        return json.dumps(messages, default=str)
    return str(exc) or type(exc).__name__


def _record(run: RuleRun) -> uuid.UUID:
    if run.record_id is None:
        raise ActionFailed("this action needs a record")
    return run.record_id


@core("set_field")
def set_field(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    from twofold.entities import service as records

    record_id = _record(run)
    field, value = params.get("field"), params.get("value")
    if not field:
        raise ActionFailed("set_field needs a field")
    records.update(run.entity_type, record_id, {field: value})
    return f"{field} = {value!r}"


@core("move_stage")
def move_stage(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    from twofold.pipelines import service as pipelines

    record_id = _record(run)
    stage = params.get("stage")
    if not stage:
        raise ActionFailed("move_stage needs a stage")
    try:
        pipelines.move(run.entity_type, record_id, stage)  # gates hold: never an override
    except pipelines.MoveRefused as exc:
        raise ActionFailed(json.dumps({"stage": stage, "unmet": [u.as_dict() for u in exc.unmet]})) from exc
    return f"moved to {stage}"


def _members(roles: list[str]) -> list[uuid.UUID]:
    query = db.select(Membership.user_id).order_by(Membership.user_id)
    if roles:
        query = query.where(Membership.role.in_(roles))
    return list(db.session.scalars(query))


@core("assign_owner")
def assign_owner(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    from twofold.entities import service as records

    record_id = _record(run)
    candidates = _members(list(params.get("roles") or []))
    if not candidates:
        raise ActionFailed("no member with the given roles")
    if params.get("strategy", "round_robin") == "least_loaded":
        loads = dict(
            db.session.execute(
                db.select(Record.owner_id, func.count())
                .where(Record.entity_type == run.entity_type, Record.deleted_at.is_(None),
                       Record.owner_id.in_(candidates), Record.id != record_id)
                .group_by(Record.owner_id)
            ).all()
        )
        chosen = min(candidates, key=lambda uid: (loads.get(uid, 0), str(uid)))
    else:
        # The position is the rule's, committed with this action: a retry does not advance it.
        position = int((rule.state or {}).get("round_robin", 0))
        chosen = candidates[position % len(candidates)]
        rule.state = {**(rule.state or {}), "round_robin": position + 1}
    records.update(run.entity_type, record_id, {"owner_id": chosen})
    return f"owner {chosen}"


@core("send_email")
def send_email(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    from twofold import mail

    to = params.get("to")
    if params.get("to_field"):
        values = record_values(run.entity_type, _record(run)) or {}
        to = values.get(params["to_field"])
    if not to:
        raise ActionFailed("no address to send to")
    # The job id is the idempotency key: Redis holds one delivery per action run.
    jobs.enqueue(mail.deliver_email, str(to), str(params.get("subject", "")), str(params.get("body", "")),
                 queue_name="mail", job_id=f"automation-mail-{key.replace(':', '-')}")
    return f"email to {to}"


def _url_problem(url: str) -> str | None:
    try:
        from twofold.integrations.targets import target_problem
    except ImportError:  # pragma: no cover - the integrations package ships the policy
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        return None if parts.scheme in ("http", "https") and parts.hostname else "Give an http(s) URL."
    return target_problem(url)


@core("call_webhook")
def call_webhook(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    url = str(params.get("url") or "")
    problem = _url_problem(url)
    if problem:
        raise ActionFailed(problem)
    body = {
        "rule_id": str(rule.id), "run_id": str(run.id), "entity_type": run.entity_type,
        "record_id": str(run.record_id) if run.record_id else None,
        "record": record_values(run.entity_type, run.record_id),
        "data": params.get("data") or {},
    }
    request = urllib.request.Request(
        url, data=json.dumps(body, default=str).encode(), method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # the URL was checked
            status = response.status
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500:
            raise ActionFailed(f"HTTP {exc.code}") from exc
        raise  # a 5xx: the job retries with backoff
    return f"HTTP {status}"


@core("wait")
def wait(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    seconds = int(params.get("seconds") or 0) + 60 * int(params.get("minutes") or 0)
    raise Wait(max(seconds, 1))


@core("send_message")
def send_message(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    """A message to the record's client on the channel they wrote from (``channel``: a kind).

    ``text`` is a template with ``{field}`` placeholders from the record.
    """
    from twofold.channels import outreach

    if run.record_id is None:
        raise ActionFailed("no record to message")
    values = record_values(run.entity_type, run.record_id) or {}
    try:
        text = str(params.get("text") or "").format_map(
            _Blank({k: "" if v is None else v for k, v in values.items()})
        )
    except (ValueError, IndexError, AttributeError) as exc:
        raise ActionFailed(f"bad text template: {exc}") from exc
    try:
        message = outreach.send_to_record(run.record_id, text, key=key, kind=params.get("channel") or None)
    except (outreach.NoChannel, ValueError) as exc:
        raise ActionFailed(str(exc)) from exc
    return f"message {message.id}"


def whole_number(value: Any) -> int | None:
    """``value`` as an int if it is one (``30``, ``"30"``, ``30.0``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def member_id(value: Any) -> uuid.UUID | None:
    """The user id in ``value`` if that user is a member of the current company, else None."""
    try:
        user_id = uuid.UUID(str(value))
    except ValueError:
        return None
    return db.session.scalar(db.select(Membership.user_id).where(Membership.user_id == user_id))


def _check_create_task(params: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if params.get("due_in_minutes") not in (None, "") and whole_number(params["due_in_minutes"]) is None:
        errors["due_in_minutes"] = ["Give a whole number of minutes."]
    if params.get("assignee") not in (None, "") and member_id(params["assignee"]) is None:
        errors["assignee"] = ["Give the user id of a member of this company."]
    return errors


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@core("create_task", check=_check_create_task)
def create_task(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    """A task following up the triggering record.

    ``title`` is a template with ``{field}`` placeholders from the record; ``due_in_minutes``
    sets the due time; ``assignee`` is a member's user id, else the record's owner. Committed
    with the action's run row, so a re-run of the job does not create a second task.
    """
    import datetime as dt

    from twofold.entities import service as records

    values = record_values(run.entity_type, run.record_id) or {}
    template = str(params.get("title") or "Follow up")
    try:
        title = template.format_map(_Blank({k: "" if v is None else v for k, v in values.items()}))
    except (ValueError, IndexError, AttributeError) as exc:
        raise ActionFailed(f"bad title template: {exc}") from exc
    title = " ".join(title.split()) or "Follow up"
    data: dict[str, Any] = {"subject": title, "done": False}
    if params.get("due_in_minutes") not in (None, ""):
        # Checked when the rule was saved; a rule written before that check may still be bad.
        minutes = whole_number(params["due_in_minutes"])
        if minutes is None:
            raise ActionFailed("due_in_minutes must be a whole number")
        data["due"] = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()
    if params.get("assignee"):
        assignee_id = member_id(params["assignee"])  # the member may have left since the rule was saved
        if assignee_id is None:
            raise ActionFailed(f"no such member: {params['assignee']}")
        data["assignee"] = str(assignee_id)
    elif values.get("owner_id") and (owner := member_id(values["owner_id"])) is not None:
        data["assignee"] = str(owner)  # the record's owner, while still a member
    if run.record_id is not None:
        data["related_type"] = run.entity_type
        data["related_id"] = str(run.record_id)
    task = records.create("task", data)
    return f"task {task.id}"
