"""The automations pages: the rule builder, the run log, failed jobs and their retry."""

from __future__ import annotations

import re

from flask import Flask

from tests.support.crm import Api
from tests.support.factories import login
from tests.support.web import Browser, member_browser, text, visible_text
from tests.test_automations import drain, tenant
from twofold import jobs
from twofold.automations.models import Rule
from twofold.db import db
from twofold.tenancy.scope import tenant_scope


def admin(app: Flask, slug: str) -> Browser:
    handle = tenant(app, slug)
    client = app.test_client()
    login(client, handle.email)
    return Browser(client, handle, handle.email)


def rule_names(app: Flask, browser: Browser) -> list[str]:
    with app.app_context(), tenant_scope(browser.tenant.tenant_id):
        return sorted(db.session.scalars(db.select(Rule.name)))


def test_admin_builds_a_rule_and_reads_its_run_log(app: Flask) -> None:
    owner = admin(app, "acme")
    assert "Automations" in visible_text(text(owner.get("/automations/")))
    page = text(owner.get("/automations/new"))
    assert 'name="cond_field"' in page and "set_field" in page and "autotest.tag" in page
    response = owner.post("/automations/new", {
        "name": "Retail by default", "enabled": "on", "entity_type": "person",
        "trigger_type": "event", "trigger_event": "record.created",
        "cond_field": ["first_name"], "cond_op": ["eq"], "cond_value": ["Anna"],
        "action_type": ["set_field"], "action_params": ["field=segment\nvalue=retail"],
    })
    assert response.status_code == 302, visible_text(text(response))
    listing = visible_text(text(owner.get("/automations/")))
    assert "Retail by default" in listing and "record.created" in listing

    api = Api(app, owner.tenant)
    listed = api.get("/automations/rules").get_json()["data"]
    rule = next(r for r in listed if r["name"] == "Retail by default")
    assert rule["conditions"] == [{"field": "first_name", "op": "eq", "value": "Anna"}]
    person = api.create("person", first_name="Anna")
    drain(app)
    assert api.get(f"/records/person/{person['id']}").get_json()["segment"] == "retail"

    log = api.get(f"/automations/rules/{rule['id']}/runs").get_json()["data"]
    page = text(owner.get(f"/automations/{rule['id']}/runs"))
    words = visible_text(page)
    assert "set_field" in words and "ok" in words
    assert log[0]["actions"][0]["result"] and log[0]["actions"][0]["result"] in words
    assert f"/records/person/{person['id']}" in page
    assert owner.get(f"/automations/{rule['id']}/edit").status_code == 200


def test_a_bad_rule_shows_its_field_errors_and_saves_nothing(app: Flask) -> None:
    owner = admin(app, "acme")
    before = rule_names(app, owner)
    response = owner.post("/automations/new", {
        "name": "Broken", "entity_type": "person", "trigger_type": "delay", "trigger_event": "record.created",
        "trigger_minutes": "soon",
        "cond_field": ["nope"], "cond_op": ["eq"], "cond_value": ["x"],
        "action_type": ["set_field"], "action_params": ["field=segment"],
    })
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="e-trigger-minutes">[^<]*integer', page), page
    assert rule_names(app, owner) == before
    response = owner.post("/automations/new", {
        "name": "Broken", "entity_type": "person", "trigger_type": "event", "trigger_event": "record.created",
        "cond_field": ["nope"], "cond_op": ["eq"], "cond_value": ["x"],
        "action_type": ["set_field"], "action_params": ["field=segment"],
    })
    assert response.status_code == 422
    assert re.search(r'id="e-conditions-0-field">No field', text(response))
    assert 'value="Broken"' in text(response)
    assert rule_names(app, owner) == before


def test_the_builder_shows_a_bad_action_param_beside_the_action(app: Flask) -> None:
    owner = admin(app, "acme")
    before = rule_names(app, owner)
    response = owner.post("/automations/new", {
        "name": "Follow up", "enabled": "on", "entity_type": "person",
        "trigger_type": "event", "trigger_event": "record.created",
        "action_type": ["create_task"], "action_params": ["title=Call\ndue_in_minutes=soon\nassignee=nobody"],
    })
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="e-actions-0-params-due_in_minutes"><code>due_in_minutes</code>: Give a whole',
                     page)
    assert re.search(r'id="e-actions-0-params-assignee"><code>assignee</code>: Give the user id of a',
                     page)
    assert "due_in_minutes=soon" in page  # the admin's input is kept
    assert rule_names(app, owner) == before
    response = owner.post("/automations/new", {
        "name": "Follow up", "enabled": "on", "entity_type": "person",
        "trigger_type": "event", "trigger_event": "record.created",
        "action_type": ["create_task"],
        "action_params": [f"title=Call\ndue_in_minutes=30\nassignee={owner.tenant.user_id}"],
    })
    assert response.status_code == 302, visible_text(text(response))
    assert "Follow up" in rule_names(app, owner)


def test_agents_get_403(app: Flask) -> None:
    owner = admin(app, "acme")
    agent = member_browser(app, owner, "agent@acme.example.com", "agent")
    rule_id = Api(app, owner.tenant).get("/automations/rules").get_json()["data"][0]["id"]
    for path in ("/automations/", "/automations/new", f"/automations/{rule_id}/edit",
                 f"/automations/{rule_id}/runs", "/automations/failed-jobs"):
        assert agent.get(path).status_code == 403, path
    assert agent.post("/automations/new", {"name": "x"}).status_code == 403
    assert agent.post(f"/automations/{rule_id}/toggle").status_code == 403
    assert "/automations/" not in text(agent.get("/"))


def test_toggle_and_retry_a_failed_job(app: Flask) -> None:
    from tests.support import jobs_fixture
    from twofold.auth.permissions import Actor, acting_as

    owner = admin(app, "acme")
    handle = owner.tenant
    rule_id = Api(app, handle).get("/automations/rules").get_json()["data"][0]["id"]
    assert owner.post(f"/automations/{rule_id}/toggle").status_code == 302
    assert Api(app, handle).get(f"/automations/rules/{rule_id}").get_json()["enabled"] is False

    assert "No failed jobs" in visible_text(text(owner.get("/automations/failed-jobs")))
    with app.app_context(), tenant_scope(handle.tenant_id), acting_as(Actor(handle.user_id, "owner")):
        jobs.enqueue(jobs_fixture.fail_always, handle.slug, retries=0)
        db.session.commit()
    drain(app)
    page = text(owner.get("/automations/failed-jobs"))
    assert "fail_always" in page and "failed on purpose" in page
    job_id = Api(app, handle).get("/automations/failed-jobs").get_json()["data"][0]["id"]
    assert owner.client.post(owner.url(f"/automations/failed-jobs/{job_id}/retry")).status_code in (400, 403)
    response = owner.post(f"/automations/failed-jobs/{job_id}/retry")
    assert response.status_code == 302
    assert Api(app, handle).get("/automations/failed-jobs").get_json()["data"] == []
    assert owner.post("/automations/failed-jobs/nope/retry").status_code == 404
