"""The rule engine: events and quiet records fire rules; their actions run in RQ jobs, once.

A rule fires once per trigger: the run's ``trigger_key`` (the event id, or a record's quiet
spell) is unique per rule, so a re-delivered event or a repeated sweep finds the run and
does nothing. The actions of a run execute in a job; each commits together with its
:class:`ActionRun` row, so a job killed half-way and run again skips what is done and does
the rest exactly once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func

from twofold import jobs
from twofold.automations.models import ActionRun, Rule, RuleRun
from twofold.db import db, utcnow
from twofold.entities import schemas
from twofold.entities.models import Activity, Record
from twofold.events import outbox
from twofold.events.models import OutboxEvent
from twofold.packs import registry
from twofold.tenancy.scope import tenant_scope, unscoped

log = logging.getLogger(__name__)

# Rule jobs have a queue of their own, served right after events by `twofold worker`: a
# long import on the default queue cannot hold up a reminder or a follow-up task.
QUEUE = "automations"
TRIGGER_TYPES = ("event", "no_activity", "delay", "schedule")
OPS = ("eq", "ne", "in", "gt", "lt", "changed_to", "empty", "not_empty")
# Rules reacting to what rules did: a chain stops at this depth, and a rule never reacts
# to an event its own actions caused (a rule "on update, assign an owner" would loop).
MAX_DEPTH = 5


class ActionFailed(Exception):
    """An action that cannot do its work: a failed ActionRun, not a retry."""


# --- matching ---------------------------------------------------------------------------


def record_values(entity_type: str, record_id: uuid.UUID | None) -> dict[str, Any] | None:
    if record_id is None:
        return None
    record = db.session.get(Record, (_tenant(), record_id))
    if record is None or record.entity_type != entity_type:
        return None
    from twofold.entities.service import values

    try:
        etype = registry.entity_type(entity_type)
    except Exception:
        return None
    out = values(etype, record)
    out["owner_id"] = str(record.owner_id) if record.owner_id else None
    out["stage_id"] = str(record.stage_id) if record.stage_id else None
    return out


def _tenant() -> uuid.UUID:
    from twofold.tenancy.scope import current_tenant_id

    return current_tenant_id()


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def condition_holds(cond: dict[str, Any], values: dict[str, Any], event: OutboxEvent | None) -> bool:
    name, op, expected = cond.get("field"), cond.get("op", "eq"), cond.get("value")
    actual = values.get(name) if name else None
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if op == "in":
        return actual in (expected or [])
    if op in ("gt", "lt"):
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            return False
        return a > b if op == "gt" else a < b
    if op == "empty":
        return schemas.blank(actual) == (expected is not False)
    if op == "not_empty":
        return not schemas.blank(actual)
    if op == "changed_to":
        if event is None:
            return False
        payload = event.payload or {}
        if event.kind == "field.changed":
            return payload.get("field") == name and payload.get("new") == expected
        change = (payload.get("changes") or {}).get(name)
        if event.kind == "record.updated" and isinstance(change, list | tuple) and len(change) == 2:
            return change[1] == expected
        return False
    return False


def conditions_hold(rule: Rule, values: dict[str, Any] | None, event: OutboxEvent | None) -> bool:
    if not rule.conditions:
        return True
    if values is None:
        values = {}
    return all(condition_holds(c, values, event) for c in rule.conditions)


def _event_matches(rule: Rule, event: OutboxEvent) -> bool:
    trigger = rule.trigger or {}
    if trigger.get("type") not in ("event", "delay") or trigger.get("event") != event.kind:
        return False
    if rule.entity_type and rule.entity_type != event.entity_type:
        return False
    payload = event.payload or {}
    return all(payload.get(k) == v for k, v in (trigger.get("filters") or {}).items())


# --- firing -----------------------------------------------------------------------------


def _fire(
    rule: Rule, trigger_key: str, entity_type: str, record_id: uuid.UUID | None,
    *, event_id: uuid.UUID | None = None, delay_seconds: int | None = None,
) -> RuleRun | None:
    """Create the run (once per trigger key) and queue its actions after the commit."""
    exists = db.session.scalar(
        db.select(RuleRun.id).where(RuleRun.rule_id == rule.id, RuleRun.trigger_key == trigger_key)
    )
    if exists is not None:
        return None
    run = RuleRun(
        rule_id=rule.id, trigger_key=trigger_key, event_id=event_id,
        entity_type=entity_type, record_id=record_id, status="queued",
    )
    run.id = uuid.uuid4()
    db.session.add(run)
    db.session.flush()
    _queue(run.id, 0, delay_seconds=delay_seconds)
    return run


def _queue(run_id: uuid.UUID, start: int, *, delay_seconds: int | None = None) -> None:
    jobs.enqueue(
        run_actions, run_id.hex, start, queue_name=QUEUE, job_id=f"rule-run-{run_id.hex}-{start}",
        delay_seconds=delay_seconds, result_ttl=86400,
    )


def on_event(event: OutboxEvent) -> None:
    """The subscriber: the handler calls it in the event's tenant, under the event's row lock."""
    cause = (event.payload or {}).get("automation") or {}
    if int(cause.get("depth") or 0) >= MAX_DEPTH:
        log.warning("automation chain too deep at event %s; not firing rules", event.id)
        return
    rules = list(db.session.scalars(db.select(Rule).where(Rule.enabled.is_(True)).order_by(Rule.created_at)))
    current: dict[str, Any] | None = None
    loaded = False
    for rule in rules:
        if not _event_matches(rule, event) or cause.get("rule") == str(rule.id):
            continue
        # The record is read (and the tenant's registry built) only for a rule with
        # conditions: most events match no rule, and many rules have no conditions.
        if rule.conditions and not loaded:
            current = record_values(event.entity_type or "", event.record_id)
            loaded = True
        if not conditions_hold(rule, current, event):
            continue
        delay = None
        if rule.trigger.get("type") == "delay":
            delay = max(int(rule.trigger.get("minutes") or 0) * 60, 1)
        _fire(rule, f"event:{event.id.hex}", event.entity_type or "", event.record_id,
              event_id=event.id, delay_seconds=delay)


def quiet_records(rule: Rule, now: datetime) -> list[tuple[uuid.UUID, datetime]]:
    """Records of the rule's type whose last activity is older than the rule's minutes."""
    minutes = int((rule.trigger or {}).get("minutes") or 0)
    cutoff = now - timedelta(minutes=minutes)
    last = func.max(Activity.at)
    query = (
        db.select(Record.id, last)
        .join(Activity, (Activity.tenant_id == Record.tenant_id) & (Activity.record_id == Record.id))
        .where(Record.deleted_at.is_(None), Record.merged_into.is_(None))
        .group_by(Record.id)
        .having(last <= cutoff)
    )
    if rule.entity_type:
        query = query.where(Record.entity_type == rule.entity_type)
    return [(rid, at) for rid, at in db.session.execute(query).all()]


def sweep_tenant(now: datetime | None = None) -> int:
    """Fire the current tenant's no-activity and schedule rules; returns how many runs."""
    now = now or utcnow()
    fired = 0
    rules = db.session.scalars(db.select(Rule).where(Rule.enabled.is_(True))).all()
    for rule in rules:
        kind = (rule.trigger or {}).get("type")
        if kind == "no_activity":
            for record_id, last_at in quiet_records(rule, now):
                # One run per quiet spell: new activity starts a new spell, a new key.
                key = f"quiet:{record_id.hex}:{last_at.isoformat()}"
                values = record_values(rule.entity_type, record_id) if rule.entity_type else {}
                if conditions_hold(rule, values, None) and _fire(rule, key, rule.entity_type, record_id):
                    fired += 1
        elif kind == "schedule":
            every = max(int(rule.trigger.get("every_minutes") or 60), 1)
            slot = int(now.timestamp() // (every * 60))
            if _fire(rule, f"schedule:{slot}", rule.entity_type, None):
                fired += 1
    return fired


def sweep(now: datetime | None = None) -> int:
    """The periodic job: every tenant with time-based rules, each in its own scope."""
    from twofold.auth.permissions import Actor, acting_as

    with unscoped("finding tenants with time-based automation rules"):
        tenants = db.session.scalars(
            db.select(Rule.tenant_id).where(Rule.enabled.is_(True)).distinct()
        ).all()
        db.session.rollback()
    fired = 0
    for tenant_id in tenants:
        with tenant_scope(tenant_id), acting_as(Actor(user_id=None, role="owner", via="automation")):
            try:
                fired += sweep_tenant(now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("automation sweep failed for tenant %s", tenant_id)
    return fired


# --- running ----------------------------------------------------------------------------


def run_actions(run_hex: str, start: int = 0) -> str:
    """The job: run a rule's actions from ``start``, each committed with its ActionRun."""
    # The run, its rule and the triggering event's payload (for the chain depth) in one query.
    row = db.session.execute(
        db.select(RuleRun, Rule, OutboxEvent.payload)
        .outerjoin(Rule, (Rule.tenant_id == RuleRun.tenant_id) & (Rule.id == RuleRun.rule_id))
        .outerjoin(OutboxEvent,
                   (OutboxEvent.tenant_id == RuleRun.tenant_id) & (OutboxEvent.id == RuleRun.event_id))
        .where(RuleRun.id == uuid.UUID(run_hex))
    ).first()
    if row is None:
        return "no such run"
    run, rule, payload = row
    if rule is None:
        return "no such rule"
    actions = list(rule.actions or [])
    depth = int(((payload or {}).get("automation") or {}).get("depth") or 0)
    token = outbox.CAUSE.set({"automation": {"rule": str(rule.id), "run": str(run.id), "depth": depth + 1}})
    try:
        return _run_from(run, rule, actions, start)
    finally:
        outbox.CAUSE.reset(token)


def _run_from(run: RuleRun, rule: Rule, actions: list[dict[str, Any]], start: int) -> str:
    from twofold.automations import core_actions

    # What earlier attempts of this job finished, in one query rather than one per action.
    done = {
        row.index: row
        for row in db.session.scalars(
            db.select(ActionRun).where(ActionRun.run_id == run.id, ActionRun.index >= start)
        )
    }
    for index in range(start, len(actions)):
        if index in done:
            if done[index].status == "failed":
                return _finish(run, "failed")
            if done[index].type == "wait":
                return "waiting"
            continue  # done by an earlier attempt of this job
        spec = actions[index]
        kind = spec.get("type", "")
        params = dict(spec.get("params") or {})
        key = f"{run.id.hex}:{index}"
        # Each action starts on a clean transaction (the previous one committed with its
        # row), so undoing a failed action is a plain rollback: no SAVEPOINT round trips.
        try:
            result = core_actions.execute(kind, rule, run, params, key)
        except core_actions.Wait as wait:
            db.session.add(ActionRun(run_id=run.id, index=index, type=kind, status="ok",
                                     result=f"waiting {wait.seconds}s"))
            _queue(run.id, index + 1, delay_seconds=wait.seconds)
            db.session.commit()
            return "waiting"
        except ActionFailed as exc:
            db.session.rollback()  # the action's own writes, and the jobs and events they queued
            db.session.add(ActionRun(run_id=run.id, index=index, type=kind, status="failed",
                                     error=str(exc)[:4000]))
            return _finish(run, "failed")
        db.session.add(ActionRun(run_id=run.id, index=index, type=kind, status="ok",
                                 result=None if result is None else str(result)[:4000]))
        if index == len(actions) - 1:
            return _finish(run, "ok")  # the last action, its row and the run's status: one commit
        db.session.commit()  # the action and its row, together
    return _finish(run, "ok")


def _finish(run: RuleRun, status: str) -> str:
    run.status = status
    run.finished_at = utcnow()
    db.session.commit()
    return status
