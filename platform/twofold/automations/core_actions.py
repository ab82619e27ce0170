"""The core's automation actions, and the dispatch to plugin actions.

Each action gets the rule, the run, its params and an idempotency key (``<run>:<index>``).
An action that cannot do its work raises :class:`ActionFailed` (a failed ActionRun, with
the reason as its error); anything else is transient and makes RQ retry the job.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func

from twofold import jobs
from twofold.auth.models import Membership, User
from twofold.automations.engine import ActionFailed, record_values
from twofold.automations.models import Rule, RuleRun
from twofold.db import db
from twofold.entities.models import Record
from twofold.exceptions import NotFound
from twofold.plugins import PluginFailed
from twofold.validation import ValidationError

Action = Callable[[Rule, RuleRun, dict[str, Any], str], str | None]
CORE_ACTIONS: dict[str, Action] = {}
WEBHOOK_TIMEOUT = 10


class Wait(Exception):  # a signal to the engine, not an error
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def core(name: str) -> Callable[[Action], Action]:
    def register(func: Action) -> Action:
        CORE_ACTIONS[name] = func
        return func

    return register


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
    # No channel registry exists yet: a clear failure, not a silent drop.
    raise ActionFailed("no channel")


def user_exists(user_id: uuid.UUID) -> bool:
    return db.session.get(User, user_id) is not None


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@core("create_task")
def create_task(rule: Rule, run: RuleRun, params: dict[str, Any], key: str) -> str:
    """A task following up the triggering record.

    ``title`` is a template with ``{field}`` placeholders from the record; ``due_in_minutes``
    sets the due time; ``assignee`` is a user id, else the record's owner. Committed with
    the action's run row, so a re-run of the job does not create a second task.
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
        try:
            minutes = int(params["due_in_minutes"])
        except (TypeError, ValueError) as exc:
            raise ActionFailed("due_in_minutes must be a number") from exc
        data["due"] = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()
    assignee = params.get("assignee") or values.get("owner_id")
    if assignee:
        try:
            assignee_id = uuid.UUID(str(assignee))
        except ValueError as exc:
            raise ActionFailed(f"no such user: {assignee}") from exc
        if not user_exists(assignee_id):
            raise ActionFailed(f"no such user: {assignee}")
        data["assignee"] = str(assignee_id)
    if run.record_id is not None:
        data["related_type"] = run.entity_type
        data["related_id"] = str(run.record_id)
    task = records.create("task", data)
    return f"task {task.id}"
