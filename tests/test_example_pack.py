"""The example third-party pack, end to end, as its author and its users see it.

It is loaded exactly as any plugin is: from its installed distribution's entry point in
the ``twofold.plugins`` group. A tenant enables it through the API, works tickets through
the gated pipeline, reads its metric and its page, and its automation action runs in a
real RQ worker, in that tenant, as the user who queued it.
"""

from __future__ import annotations

import importlib.metadata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker

from tests.support.factories import TenantHandle, login, signup
from twofold import jobs
from twofold.auth.permissions import Actor, acting_as
from twofold.automations import actions
from twofold.db import db
from twofold.tenancy.scope import tenant_scope


def _enable(client: FlaskClient, tenant: TenantHandle) -> None:
    response = client.post("/api/v1/packs/example/enable", headers=tenant.api())
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"name": "example", "enabled": True}


def _ticket(client: FlaskClient, tenant: TenantHandle, **values: Any) -> dict[str, Any]:
    response = client.post("/api/v1/records/ticket", json=values, headers=tenant.api())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _move(client: FlaskClient, tenant: TenantHandle, ticket_id: str, stage: str, **extra: Any) -> Any:
    return client.post(
        f"/api/v1/records/ticket/{ticket_id}/move", json={"stage": stage, **extra}, headers=tenant.api()
    )


def _stages(client: FlaskClient, tenant: TenantHandle) -> dict[str, str]:
    """Stage key -> id, of the tenant's support pipeline."""
    pipelines = client.get("/api/v1/pipelines", headers=tenant.api()).get_json()["data"]
    (support,) = [p for p in pipelines if p["key"] == "support"]
    return {s["key"]: s["id"] for s in support["stages"]}


def test_the_pack_comes_from_its_installed_distribution(app: Flask) -> None:
    dist = importlib.metadata.distribution("twofold-example")
    (entry,) = [e for e in dist.entry_points if e.group == "twofold.plugins"]
    assert (entry.name, entry.value) == ("example", "twofold_example.plugin")

    manager = app.extensions["twofold.plugins"].manager
    assert manager.get_plugin("example") is entry.load()

    tenant = signup(app, "acme")
    listed = app.test_client().get("/api/v1/packs", headers=tenant.api()).get_json()["data"]
    assert {"name": "example", "label": "Support tickets",
            "description": "Track customer requests from new to resolved.", "enabled": False} in listed


def test_tickets_move_through_the_gated_pipeline_and_the_metric_counts_them(app: Flask) -> None:
    acme, globex = signup(app, "acme"), signup(app, "globex")
    client = app.test_client()
    assert client.get("/api/v1/records/ticket", headers=acme.api()).status_code == 404  # not yet enabled
    _enable(client, acme)

    stages = _stages(client, acme)
    assert list(stages) == ["new", "working", "resolved", "rejected"]

    bad = client.post("/api/v1/records/ticket", json={"priority": "urgent"}, headers=acme.api())
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"subject", "priority"}

    fire = _ticket(client, acme, subject="Printer on fire", priority="high", requester_email="ann@ex.com")
    reset = _ticket(client, acme, subject="Password reset")
    _ticket(client, acme, subject="Slow laptop", priority="low")
    _ticket(client, acme, subject="VPN drops", priority="high")
    assert fire["title"] == "Printer on fire"
    assert reset["priority"] == "normal"  # the declared default
    assert fire["stage_id"] == stages["new"]  # new tickets enter the default pipeline's first stage

    assert _move(client, acme, fire["id"], "working").status_code == 200
    refused = _move(client, acme, fire["id"], "resolved")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["stage"] == "resolved"
    assert [(u["kind"], u["name"]) for u in error["unmet"]] == [("field", "resolution")]
    still = client.get(f"/api/v1/records/ticket/{fire['id']}", headers=acme.api()).get_json()
    assert still["stage_id"] == stages["working"]  # a refused move changes nothing

    patched = client.patch(f"/api/v1/records/ticket/{fire['id']}", json={"resolution": "Replaced the fuser"},
                           headers=acme.api())
    assert patched.status_code == 200, patched.get_json()
    moved = _move(client, acme, fire["id"], "resolved")
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["record"]["stage_id"] == stages["resolved"]

    no_reason = _move(client, acme, reset["id"], "rejected")
    assert no_reason.status_code == 409
    assert [u["kind"] for u in no_reason.get_json()["error"]["unmet"]] == ["reason"]
    assert _move(client, acme, reset["id"], "rejected", reason="Self-service portal").status_code == 200

    history = client.get(f"/api/v1/records/ticket/{fire['id']}/history", headers=acme.api()).get_json()
    history = history["data"]
    assert [(h["from_stage_id"], h["to_stage_id"]) for h in history] == [
        (None, stages["new"]), (stages["new"], stages["working"]), (stages["working"], stages["resolved"]),
    ]

    metric = client.get("/api/v1/metrics/example.open_tickets", headers=acme.api())
    assert metric.status_code == 200, metric.get_json()
    assert metric.get_json() == {
        "name": "example.open_tickets", "label": "Open tickets by priority", "value": 2,
        "groups": [{"key": "high", "value": 1}, {"key": "low", "value": 1}],
    }

    # The other company never enabled the pack: none of it exists there.
    assert client.get("/api/v1/metrics/example.open_tickets", headers=globex.api()).status_code == 404
    assert client.get("/api/v1/records/ticket", headers=globex.api()).status_code == 404
    types = client.get("/api/v1/entity-types", headers=globex.api()).get_json()["data"]
    assert "ticket" not in {t["name"] for t in types}


def test_the_summary_page_renders_for_members_of_a_tenant_with_the_pack(app: Flask) -> None:
    acme, globex = signup(app, "acme"), signup(app, "globex")
    api = app.test_client()
    _enable(api, acme)
    _ticket(api, acme, subject="Printer on fire", priority="high")
    _ticket(api, acme, subject="Paper jam", priority="high")
    _ticket(api, acme, subject="New mouse", priority="low")

    anonymous = app.test_client().get("/t/acme/tickets/summary")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    browser = app.test_client()
    login(browser, acme.email)
    page = browser.get("/t/acme/tickets/summary")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Open tickets by priority</h1>" in html
    assert "<tr><td>high</td><td>2</td></tr>" in html
    assert "<tr><td>low</td><td>1</td></tr>" in html

    other = app.test_client()
    login(other, globex.email)
    assert other.get("/t/globex/tickets/summary").status_code == 404  # globex has not enabled it
    assert other.get("/t/acme/tickets/summary").status_code == 404  # and is no member of acme

    assert api.post("/api/v1/packs/example/disable", headers=acme.api()).status_code == 200
    assert browser.get("/t/acme/tickets/summary").status_code == 404


@contextmanager
def _as_owner(app: Flask, tenant: TenantHandle) -> Iterator[None]:
    """Code running in the tenant as its owner, as a request of theirs would."""
    owner = Actor(tenant.user_id, "owner", via="web")
    with app.app_context(), tenant_scope(tenant.tenant_id), acting_as(owner):
        yield


def _queue_escalation(
    app: Flask, tenant: TenantHandle, ticket_id: str, key: str | None = None, retries: int = 3
) -> str:
    with _as_owner(app, tenant):
        queued = actions.enqueue_action(
            "example.escalate", "ticket", uuid.UUID(ticket_id), idempotency_key=key, retries=retries
        )
        db.session.commit()  # the job is handed to Redis once this commits
    return queued


def _work(app: Flask) -> list[Any]:
    """Run the queue dry in a real RQ worker; the jobs' calls and results, oldest first."""
    with app.app_context():
        queue = jobs.queue()
        registry = queue.finished_job_registry
        before = set(registry.get_job_ids())
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert queue.failed_job_registry.count == 0
        done = [queue.fetch_job(i) for i in registry.get_job_ids() if i not in before]
        done.sort(key=lambda job: job.ended_at)
        return [(jobs.job_call(job), job.return_value()) for job in done]


def test_the_automation_action_runs_in_a_worker_in_the_tenant_as_the_user(app: Flask) -> None:
    acme = signup(app, "acme")
    client = app.test_client()
    _enable(client, acme)
    ticket = _ticket(client, acme, subject="Printer on fire")
    assert ticket["priority"] == "normal"

    key = _queue_escalation(app, acme, ticket["id"])
    # RQ retrying the job hands the action the same key; running it again changes nothing.
    assert _queue_escalation(app, acme, ticket["id"], key) == key
    ran = _work(app)
    assert [(call["kwargs"], call["args"][-1], call["tenant_id"], result) for call, result in ran] == [
        ({}, key, acme.tenant_id.hex, "escalated"),
        ({}, key, acme.tenant_id.hex, "already high"),
    ]

    after = client.get(f"/api/v1/records/ticket/{ticket['id']}", headers=acme.api()).get_json()
    assert after["priority"] == "high"
    timeline = client.get(f"/api/v1/records/ticket/{ticket['id']}/timeline", headers=acme.api()).get_json()
    updates = [a for a in timeline["data"] if a["kind"] == "updated"]
    assert [(a["changes"], a["user_id"]) for a in updates] == [
        ({"priority": ["normal", "high"]}, str(acme.user_id))  # once, by the user who queued it
    ]


def test_the_action_does_not_exist_for_a_tenant_without_the_pack(app: Flask) -> None:
    acme, globex = signup(app, "acme"), signup(app, "globex")
    client = app.test_client()
    _enable(client, acme)
    ticket = _ticket(client, acme, subject="Printer on fire")
    with _as_owner(app, globex), pytest.raises(actions.UnknownAction):
        actions.run_action("example.escalate", "ticket", ticket["id"])

    # Queued while enabled, disabled before a worker picked it up: the job fails clearly.
    _queue_escalation(app, acme, ticket["id"], retries=0)
    assert client.post("/api/v1/packs/example/disable", headers=acme.api()).status_code == 200
    with app.app_context():
        queue = jobs.queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        (job_id,) = queue.failed_job_registry.get_job_ids()
        assert "no action 'example.escalate' among this company's enabled packs" in (
            queue.fetch_job(job_id).latest_result().exc_string
        )
    assert client.post("/api/v1/packs/example/enable", headers=acme.api()).status_code == 200
    after = client.get(f"/api/v1/records/ticket/{ticket['id']}", headers=acme.api()).get_json()
    assert after["priority"] == "normal"
