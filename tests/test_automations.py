"""The rule engine: a trigger fires a rule once, conditions decide, actions act exactly once."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import ClassVar

import pytest
from flask import Flask
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry

from tests.plugins import automation_fixture
from tests.support.crm import Api, crm_tenant
from tests.support.factories import TenantHandle, invite_and_join
from twofold import jobs
from twofold.automations import engine
from twofold.automations.models import ActionRun, Rule, RuleRun
from twofold.db import db
from twofold.entities.models import Activity, Record
from twofold.events import handler, outbox
from twofold.events.models import OutboxEvent
from twofold.tenancy.scope import tenant_scope


def drain(app: Flask) -> None:
    """Run the event and job queues with real (in-process) workers until both are empty."""
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        names = (outbox.EVENTS_QUEUE, engine.QUEUE, jobs.DEFAULT_QUEUE, "mail")
        queues = [Queue(name, connection=connection) for name in names]
        for _ in range(10):
            if not any(q.count for q in queues):
                return
            SimpleWorker(queues, connection=connection).work(burst=True)


def tenant(app: Flask, slug: str) -> TenantHandle:
    plugins = app.extensions["twofold.plugins"]
    if plugins.manager.get_plugin(automation_fixture.NAME) is None:
        plugins.register(automation_fixture, name=automation_fixture.NAME)
    handle = crm_tenant(app, slug)
    response = app.test_client().post(f"/api/v1/packs/{automation_fixture.NAME}/enable", headers=handle.api())
    assert response.status_code == 200, response.get_json()
    return handle


def add_rule(api: Api, **body) -> dict:
    body.setdefault("name", "rule")
    response = api.post("/automations/rules", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def runs(api: Api, rule: dict) -> list[dict]:
    response = api.get(f"/automations/rules/{rule['id']}/runs")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def record(api: Api, type_name: str, record_id: str) -> dict:
    response = api.get(f"/records/{type_name}/{record_id}")
    assert response.status_code == 200
    return response.get_json()


def on_created(type_name: str, actions: list, conditions: list | None = None) -> dict:
    return {
        "entity_type": type_name,
        "trigger": {"type": "event", "event": "record.created"},
        "conditions": conditions or [],
        "actions": actions,
    }


# --- firing once ------------------------------------------------------------------------


def test_an_event_fires_a_rule_once_even_when_delivered_twice(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    api.delete(f"/automations/rules/{api.get('/automations/rules').get_json()['data'][0]['id']}")
    rule = add_rule(api, **on_created("person", [{"type": "set_field", "params": {"field": "segment",
                                                                                   "value": "retail"}}]))
    person = api.create("person", first_name="Anna")
    drain(app)
    assert record(api, "person", person["id"])["segment"] == "retail"

    # The event comes again (a sweep after a lost acknowledgement): handled_at is cleared
    # to let the handler through, and the run's unique key still stops a second firing.
    with app.app_context(), tenant_scope(acme.tenant_id):
        event = db.session.scalar(db.select(OutboxEvent).where(
            OutboxEvent.kind == "record.created", OutboxEvent.record_id == uuid.UUID(person["id"])
        ))
        event.handled_at = None
        db.session.commit()
        assert handler.handle_event(acme.tenant_id.hex, event.id.hex) == "handled"
    drain(app)
    log = runs(api, rule)
    assert len(log) == 1
    assert log[0]["status"] == "ok"
    assert [(a["type"], a["status"]) for a in log[0]["actions"]] == [("set_field", "ok")]


def test_conditions() -> None:
    changed = SimpleNamespace(kind="field.changed", payload={"field": "stage", "old": "a", "new": "won"})
    updated = SimpleNamespace(kind="record.updated", payload={"changes": {"stage": ["a", "won"]}})
    hold = engine.condition_holds
    assert hold({"field": "stage", "op": "changed_to", "value": "won"}, {}, changed)
    assert hold({"field": "stage", "op": "changed_to", "value": "won"}, {}, updated)
    assert not hold({"field": "stage", "op": "changed_to", "value": "lost"}, {}, changed)
    assert not hold({"field": "other", "op": "changed_to", "value": "won"}, {}, changed)
    assert not hold({"field": "stage", "op": "changed_to", "value": "won"}, {}, None)
    assert hold({"field": "age", "op": "gt", "value": 17}, {"age": 18}, None)
    assert not hold({"field": "age", "op": "gt", "value": 17}, {"age": 17}, None)
    assert not hold({"field": "age", "op": "gt", "value": 17}, {"age": None}, None)
    assert hold({"field": "age", "op": "lt", "value": 17}, {"age": 3}, None)
    assert hold({"field": "seg", "op": "in", "value": ["a", "b"]}, {"seg": "b"}, None)
    assert not hold({"field": "seg", "op": "in", "value": ["a", "b"]}, {"seg": "c"}, None)
    assert hold({"field": "email", "op": "empty"}, {"email": ""}, None)
    assert hold({"field": "email", "op": "empty"}, {}, None)
    assert not hold({"field": "email", "op": "empty"}, {"email": "a@b.c"}, None)
    assert hold({"field": "email", "op": "empty", "value": False}, {"email": "a@b.c"}, None)


def test_conditions_decide_in_the_engine(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    rule = add_rule(api, entity_type="person", trigger={"type": "event", "event": "field.changed",
                                                        "filters": {"field": "segment"}},
                    conditions=[{"field": "segment", "op": "changed_to", "value": "wholesale"},
                                {"field": "age", "op": "gt", "value": 20}],
                    actions=[{"type": "autotest.tag", "params": {"label": "big"}}])
    young = api.create("person", first_name="Young", age=19)
    old = api.create("person", first_name="Old", age=40)
    for person in (young, old):
        api.patch(f"/records/person/{person['id']}", json={"segment": "retail"})
        api.patch(f"/records/person/{person['id']}", json={"segment": "wholesale"})
    drain(app)
    log = runs(api, rule)
    assert [r["record_id"] for r in log] == [old["id"]]
    assert log[0]["actions"][0]["result"] == "tagged big"


def test_a_pack_template_becomes_a_rule_once(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    rules = api.get("/automations/rules").get_json()["data"]
    assert [(r["template_key"], r["enabled"]) for r in rules] == [("autotest.vip_adults", True)]
    api.post(f"/packs/{automation_fixture.NAME}/disable")
    api.post(f"/packs/{automation_fixture.NAME}/enable")
    assert len(api.get("/automations/rules").get_json()["data"]) == 1
    adult = api.create("person", first_name="Ada", age=30)
    child = api.create("person", first_name="Kid", age=5)
    drain(app)
    assert record(api, "person", adult["id"])["vip"] is True
    assert record(api, "person", child["id"])["vip"] is False


# --- actions ----------------------------------------------------------------------------


def test_move_stage_cannot_bypass_a_gate(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    rule = add_rule(api, **on_created("deal", [{"type": "move_stage", "params": {"stage": "proposal"}},
                                               {"type": "autotest.tag", "params": {}}]))
    gated = api.create("deal", name="No amount")
    fine = api.create("deal", name="With amount", amount="100.00")
    drain(app)
    by_record = {r["record_id"]: r for r in runs(api, rule)}
    refused = by_record[gated["id"]]
    assert refused["status"] == "failed"
    assert [a["status"] for a in refused["actions"]] == ["failed"]  # the rest does not run
    assert json.loads(refused["actions"][0]["error"])["unmet"][0]["name"] == "amount"
    assert by_record[fine["id"]]["status"] == "ok"
    with app.app_context(), tenant_scope(acme.tenant_id):
        stages = {str(r.id): r.stage_id for r in db.session.scalars(db.select(Record))}
    assert stages[gated["id"]] != stages[fine["id"]]


def test_assign_owner_round_robin_and_least_loaded(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    a = invite_and_join(app, acme, "a@example.com", "agent")
    b = invite_and_join(app, acme, "b@example.com", "agent")
    add_rule(api, **on_created("document", [{"type": "assign_owner",
                                             "params": {"roles": ["agent"], "strategy": "round_robin"}}]))
    docs = [api.create("document", name=f"d{i}") for i in range(4)]
    drain(app)
    owners = [record(api, "document", d["id"])["owner_id"] for d in docs]
    first, second = sorted([str(a), str(b)])
    assert owners == [first, second, first, second]

    add_rule(api, **on_created("deal", [{"type": "assign_owner",
                                         "params": {"roles": ["agent"], "strategy": "least_loaded"}}]))
    deals = [api.create("deal", name=f"x{i}") for i in range(2)]
    drain(app)
    assert sorted(record(api, "deal", d["id"])["owner_id"] for d in deals) == sorted([str(a), str(b)])


def test_send_email_and_send_message(app: Flask, smtp_server) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    rule = add_rule(api, **on_created("person", [
        {"type": "send_email", "params": {"to_field": "email", "subject": "Hello", "body": "Welcome"}},
        {"type": "send_message", "params": {"text": "hi"}},
    ]))
    api.create("person", first_name="Mia", email="mia@example.com")
    drain(app)
    assert [m["To"] for m in smtp_server.messages] == ["mia@example.com"]
    log = runs(api, rule)[0]
    assert [(a["type"], a["status"]) for a in log["actions"]] == [
        ("send_email", "ok"), ("send_message", "failed"),
    ]
    assert log["actions"][0]["error"] is None
    assert "no client on a channel" in log["actions"][1]["error"]  # Mia never wrote on a channel


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict, str]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Hook.received.append((body, self.headers.get("Idempotency-Key")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hook_server():
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Hook.received
    server.shutdown()


def test_call_webhook_and_wait(app: Flask, hook_server) -> None:
    url, received = hook_server
    acme = tenant(app, "acme")
    api = Api(app, acme)
    rule = add_rule(api, **on_created("document", [
        {"type": "call_webhook", "params": {"url": url, "data": {"x": 1}}},
        {"type": "wait", "params": {"minutes": 5}},
        {"type": "set_field", "params": {"field": "status", "value": "approved"}},
    ]))
    doc = api.create("document", name="Contract")
    drain(app)
    assert len(received) == 1
    body, key = received[0]
    assert body["record_id"] == doc["id"] and body["data"] == {"x": 1} and key
    log = runs(api, rule)[0]
    assert [(a["type"], a["status"]) for a in log["actions"]] == [("call_webhook", "ok"), ("wait", "ok")]
    assert record(api, "document", doc["id"])["status"] == "draft"
    with app.app_context():
        scheduled = ScheduledJobRegistry(engine.QUEUE, connection=app.extensions["twofold.redis"])
        job_ids = scheduled.get_job_ids()
        assert len(job_ids) == 1
        # Time passes: the scheduler would move it now; do what it does.
        queue = Queue(engine.QUEUE, connection=app.extensions["twofold.redis"])
        queue.enqueue_job(queue.fetch_job(job_ids[0]))
        scheduled.remove(job_ids[0])
    drain(app)
    assert record(api, "document", doc["id"])["status"] == "approved"
    assert runs(api, rule)[0]["status"] == "ok"
    assert len(received) == 1


# --- time-based triggers ----------------------------------------------------------------


def test_no_activity_fires_once_per_quiet_spell(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    rule = add_rule(api, entity_type="document", trigger={"type": "no_activity", "minutes": 60},
                    actions=[{"type": "autotest.tag", "params": {}}])
    quiet = api.create("document", name="Quiet")
    busy = api.create("document", name="Busy")
    drain(app)
    with app.app_context(), tenant_scope(acme.tenant_id):
        db.session.execute(db.update(Activity).where(Activity.record_id == uuid.UUID(quiet["id"]))
                           .values(at=_hours_ago(3)))
        db.session.commit()
    with app.app_context():
        assert engine.sweep() == 1
        assert engine.sweep() == 0  # a second sweep in the same quiet spell: nothing
    drain(app)
    with app.app_context():
        assert engine.sweep() == 0
    log = runs(api, rule)
    assert [r["record_id"] for r in log] == [quiet["id"]]
    assert busy["id"] not in [r["record_id"] for r in log]
    # New activity, then quiet again: a new spell, one more run.
    api.patch(f"/records/document/{quiet['id']}", json={"name": "Quiet again"})
    drain(app)
    with app.app_context(), tenant_scope(acme.tenant_id):
        db.session.execute(db.update(Activity).where(Activity.record_id == uuid.UUID(quiet["id"]))
                           .values(at=_hours_ago(2)))
        db.session.commit()
    with app.app_context():
        assert engine.sweep() == 1
        assert engine.sweep() == 0
    assert len(runs(api, rule)) == 2


def _hours_ago(hours: int):
    from datetime import timedelta

    from twofold.db import utcnow

    return utcnow() - timedelta(hours=hours)


# --- the API ----------------------------------------------------------------------------


def test_rule_validation_answers_per_field(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    response = api.post("/automations/rules", json={
        "name": "bad", "entity_type": "person", "colour": "red",
        "trigger": {"type": "sometimes"},
        "conditions": [{"field": "age", "op": "roughly", "value": 1}, {"field": "nope", "op": "eq"}],
        "actions": [{"type": "launch_rocket"}],
    })
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "colour" in errors
    assert "type" in errors["trigger"]
    assert "op" in errors["conditions"]["0"]
    assert "type" in errors["actions"]["0"]
    ok = add_rule(api, **on_created("person", [{"type": "autotest.tag"}]))
    response = api.patch(f"/automations/rules/{ok['id']}", json={"enabled": False})
    assert response.status_code == 200 and response.get_json()["enabled"] is False
    missing_field = api.post("/automations/rules", json={**on_created("person", [{"type": "autotest.tag"}]),
                                                         "name": "x",
                                                         "conditions": [{"field": "nope", "op": "eq"}]})
    assert missing_field.status_code == 422
    assert api.delete(f"/automations/rules/{ok['id']}").status_code == 204
    other = tenant(app, "other")
    assert Api(app, other).get(f"/automations/rules/{ok['id']}").status_code == 404


def test_failed_jobs_are_listed_and_retried_per_tenant(app: Flask) -> None:
    from tests.support import jobs_fixture
    from twofold.auth.permissions import Actor, acting_as

    acme = tenant(app, "acme")
    other = tenant(app, "other")
    for handle in (acme, other):
        with app.app_context(), tenant_scope(handle.tenant_id), acting_as(Actor(handle.user_id, "owner")):
            jobs.enqueue(jobs_fixture.fail_always, handle.slug, retries=0)
            db.session.commit()
    drain(app)
    api = Api(app, acme)
    listed = api.get("/automations/failed-jobs").get_json()["data"]
    assert len(listed) == 1 and listed[0]["func"].endswith("fail_always")
    assert "failed on purpose" in listed[0]["error"]
    other_id = Api(app, other).get("/automations/failed-jobs").get_json()["data"][0]["id"]
    assert api.post(f"/automations/failed-jobs/{other_id}/retry").status_code == 404
    response = api.post(f"/automations/failed-jobs/{listed[0]['id']}/retry")
    assert response.status_code == 200
    assert api.get("/automations/failed-jobs").get_json()["data"] == []
    drain(app)
    assert len(api.get("/automations/failed-jobs").get_json()["data"]) == 1  # failed again, listed again


def test_agents_cannot_manage_automations(app: Flask) -> None:
    from twofold.auth import tokens
    from twofold.auth.permissions import Actor, acting_as

    acme = tenant(app, "acme")
    agent_id = invite_and_join(app, acme, "agent@example.com", "agent")
    with app.app_context(), tenant_scope(acme.tenant_id), acting_as(Actor(agent_id, "agent")):
        _token, raw = tokens.issue("agent", agent_id)
        db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    client = app.test_client()
    assert client.get("/api/v1/automations/rules", headers=headers).status_code == 403
    assert client.get("/api/v1/automations/failed-jobs", headers=headers).status_code == 403
    with app.app_context(), tenant_scope(acme.tenant_id):
        assert db.session.scalar(db.select(db.func.count()).select_from(Rule)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(RuleRun)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(ActionRun)) == 0


def test_rules_chain_but_do_not_loop(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    invite_and_join(app, acme, "a@example.com", "agent")
    invite_and_join(app, acme, "b@example.com", "agent")
    # Every update reassigns the owner, which is an update: without the guard, forever.
    looping = add_rule(api, entity_type="document", trigger={"type": "event", "event": "record.updated"},
                       actions=[{"type": "assign_owner", "params": {"roles": ["agent"]}}])
    # One rule's effect may trigger another rule.
    first = add_rule(api, **on_created("person", [{"type": "set_field",
                                                   "params": {"field": "segment", "value": "retail"}}]))
    second = add_rule(api, entity_type="person",
                      trigger={"type": "event", "event": "field.changed", "filters": {"field": "segment"}},
                      actions=[{"type": "set_field", "params": {"field": "tags", "value": ["new"]}}])
    doc = api.create("document", name="Loop")
    api.patch(f"/records/document/{doc['id']}", json={"name": "Loop 2"})
    person = api.create("person", first_name="Chain")
    drain(app)
    assert len(runs(api, looping)) == 1
    assert len(runs(api, first)) == 1 and len(runs(api, second)) == 1
    assert record(api, "person", person["id"])["tags"] == ["new"]


# --- create_task --------------------------------------------------------------------------


def test_create_task_makes_one_task_even_when_the_job_runs_twice(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    rule = add_rule(api, **on_created("person", [{"type": "create_task", "params": {
        "title": "Call {first_name} {missing}", "due_in_minutes": 60}}]))
    person = api.create("person", first_name="Anna")
    drain(app)

    def tasks() -> list[Record]:
        with app.app_context(), tenant_scope(acme.tenant_id):
            return list(db.session.scalars(db.select(Record).where(Record.entity_type == "task")))

    (task,) = tasks()
    assert task.title == "Call Anna"
    assert task.data["related_type"] == "person" and task.data["related_id"] == person["id"]
    assert task.data["assignee"] == str(acme.user_id)  # the record's owner
    assert task.data["done"] is False and task.data["due"]

    # The same job runs again (a retry after a lost acknowledgement): the action's row,
    # committed with the task, makes it skip.
    (run,) = runs(api, rule)
    with app.app_context(), tenant_scope(acme.tenant_id):
        engine._queue(uuid.UUID(run["id"]), 0)
        db.session.commit()
    drain(app)
    assert len(tasks()) == 1
    (run,) = runs(api, rule)
    assert [(a["type"], a["status"]) for a in run["actions"]] == [("create_task", "ok")]


def test_create_task_assigns_a_given_member_and_refuses_a_bad_one_when_saved(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    add_rule(api, **on_created("person", [{"type": "create_task", "params": {
        "title": "Welcome", "assignee": str(acme.user_id), "due_in_minutes": "30"}}]))
    for params, field in (({"assignee": str(uuid.uuid4())}, "assignee"),  # nobody's id
                          ({"assignee": "boss"}, "assignee"),
                          ({"due_in_minutes": "soon"}, "due_in_minutes"),
                          ({"due_in_minutes": 1.5}, "due_in_minutes")):
        action = {"type": "create_task", "params": {"title": "x", **params}}
        response = api.post("/automations/rules", json={"name": "bad", **on_created("person", [action])})
        assert response.status_code == 422, params
        assert list(response.get_json()["errors"]["actions"]["0"]["params"]) == [field], params
    other = tenant(app, "other")  # a user of another company is not a member of this one
    action = {"type": "create_task", "params": {"assignee": str(other.user_id)}}
    response = api.post("/automations/rules", json={"name": "bad", **on_created("person", [action])})
    assert response.status_code == 422

    # A rule saved before the member left (written here past the check) fails its run, clearly.
    with app.app_context(), tenant_scope(acme.tenant_id):
        db.session.add(Rule(name="stale", enabled=True, state={}, pack="", **on_created("person", [
            {"type": "create_task", "params": {"title": "Lost", "assignee": str(uuid.uuid4())}}])))
        db.session.commit()
        stale = {"id": str(db.session.scalar(db.select(Rule.id).where(Rule.name == "stale")))}
    api.create("person", first_name="Ben")
    drain(app)
    with app.app_context(), tenant_scope(acme.tenant_id):
        tasks = list(db.session.scalars(db.select(Record).where(Record.entity_type == "task")))
    assert [t.title for t in tasks] == ["Welcome"] and tasks[0].data["assignee"] == str(acme.user_id)
    (run,) = runs(api, stale)
    assert run["status"] == "failed"
    assert "no such member" in run["actions"][0]["error"]


def test_a_plugin_action_checks_its_params_when_a_rule_is_saved(app: Flask, monkeypatch) -> None:
    from twofold.automations.meta import ActionSpec

    def check(params: dict) -> dict[str, list[str]]:
        if params.get("tag") == "explode":
            raise RuntimeError("a bug in the pack's check")
        return {} if params.get("tag") else {"tag": ["Name the tag."]}

    # The fixture pack's actions, built with a params check (the hook builds them when called;
    # a fresh cache of hook results for this test, the app's own is put back after it).
    monkeypatch.setattr(automation_fixture.sdk, "ActionSpec",
                        lambda *a, **k: ActionSpec(*a, **k, check_params=check))
    monkeypatch.setattr(app.extensions["twofold.plugins"], "_cache", {})
    acme = tenant(app, "acme")
    api = Api(app, acme)

    def save(params: dict):
        return api.post("/automations/rules", json={"name": "x", **on_created("person", [
            {"type": "autotest.tag", "params": params}])})

    response = save({})
    assert response.status_code == 422
    assert response.get_json()["errors"]["actions"]["0"]["params"] == {"tag": ["Name the tag."]}
    assert save({"tag": "vip"}).status_code == 201
    broken = save({"tag": "explode"})  # contained: the rule is refused, saying why
    assert broken.status_code == 422
    assert "could not check" in json.dumps(broken.get_json()["errors"])


def test_rule_jobs_wait_on_their_own_queue(app: Flask) -> None:
    acme = tenant(app, "acme")
    api = Api(app, acme)
    add_rule(api, **on_created("person", [{"type": "autotest.tag"}]))
    api.create("person", first_name="Queued")
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        events = Queue(outbox.EVENTS_QUEUE, connection=connection)
        SimpleWorker([events], connection=connection).work(burst=True)
        automations = Queue(engine.QUEUE, connection=connection)
        assert engine.QUEUE == "automations"
        assert [j.startswith("rule-run-") for j in automations.job_ids] == [True]
        assert Queue(jobs.DEFAULT_QUEUE, connection=connection).count == 0
    drain(app)


def test_twofold_worker_serves_every_queue_events_and_rules_first() -> None:
    from twofold.cli import WORKER_QUEUES
    from twofold.integrations import delivery

    assert WORKER_QUEUES[:4] == (outbox.EVENTS_QUEUE, engine.QUEUE, jobs.DEFAULT_QUEUE, "mail")
    assert delivery.QUEUE in WORKER_QUEUES
