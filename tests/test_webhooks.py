"""Outbound webhooks: signed deliveries to a real HTTP server, retries, disabling, SSRF guard."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry
from standardwebhooks.webhooks import Webhook

from tests.support.crm import Api, crm_tenant
from tests.support.receiver import receiver
from tests.support.retries import bring_retries_forward
from twofold.auth.models import SecurityEvent
from twofold.db import db
from twofold.events import outbox
from twofold.integrations import delivery
from twofold.integrations.models import WebhookSubscription
from twofold.tenancy.scope import tenant_scope


def _work(app: Flask) -> None:
    """Run every queued event and delivery job with a real worker, until none is left."""
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        queues = [Queue(name, connection=connection) for name in (outbox.EVENTS_QUEUE, delivery.QUEUE)]
        SimpleWorker(queues, connection=connection).work(burst=True)


def _bring_retries_forward(app: Flask) -> int:
    return bring_retries_forward(app, delivery.QUEUE)


def _subscribe(api: Api, url: str, **extra) -> dict:
    response = api.post("/webhooks", json={"url": url, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_record_event_is_delivered_signed_and_verifiable(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    with receiver() as target:
        sub = _subscribe(api, target.url, event_kinds=["record.created"], entity_types=["person"])
        assert sub["secret"].startswith("whsec_")
        assert "secret" not in api.get(f"/webhooks/{sub['id']}").get_json()  # shown once
        person = api.create("person", first_name="Anna")
        api.create("deal", name="Not a person")  # filtered out by entity type
        _work(app)
        assert len(target.requests) == 1
        got = target.requests[0]
        payload = Webhook(sub["secret"]).verify(got.body, got.headers)
        assert payload["type"] == "record.created"
        assert payload["data"]["record_id"] == person["id"]
        assert payload["data"]["entity_type"] == "person"
    log = api.get(f"/webhooks/{sub['id']}/deliveries").get_json()["data"]
    assert [(d["attempt"], d["status_code"], d["succeeded"]) for d in log] == [(1, 200, True)]


def test_a_failing_target_is_retried_on_schedule_and_delivered_once(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    with receiver([500, 200]) as target:
        sub = _subscribe(api, target.url, event_kinds=["record.created"])
        api.create("person", first_name="Anna")
        _work(app)
        assert len(target.requests) == 1
        log = api.get(f"/webhooks/{sub['id']}/deliveries").get_json()["data"]
        assert log[0]["status_code"] == 500 and log[0]["next_retry_at"] is not None
        with app.app_context():
            queue = Queue(delivery.QUEUE, connection=app.extensions["twofold.redis"])
            assert len(ScheduledJobRegistry(queue=queue).get_job_ids()) == 1  # waits for its time
        assert _bring_retries_forward(app) == 1
        _work(app)
        assert _bring_retries_forward(app) == 0  # delivered: nothing more scheduled
        assert len(target.requests) == 2
        first, second = target.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the same message
        Webhook(sub["secret"]).verify(second.body, second.headers)
    log = api.get(f"/webhooks/{sub['id']}/deliveries").get_json()["data"]
    assert sorted((d["attempt"], d["status_code"]) for d in log) == [(1, 500), (2, 200)]
    assert api.get(f"/webhooks/{sub['id']}").get_json()["failure_count"] == 0


def test_the_retry_schedule_grows_with_jitter(app: Flask) -> None:
    with app.app_context():
        delays = delivery.schedule()
    assert list(delays) == sorted(delays) and delays[0] < delays[-1]


def test_410_disables_the_subscription_and_tells_the_owners(app: Flask, smtp_server) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    with receiver([410]) as target:
        sub = _subscribe(api, target.url)
        api.create("person", first_name="Anna")
        _work(app)
        assert len(target.requests) == 1
        api.create("person", first_name="Bert")
        _work(app)
        assert len(target.requests) == 1  # disabled: nothing more is sent
    body = api.get(f"/webhooks/{sub['id']}").get_json()
    assert body["enabled"] is False and "410" in body["disabled_reason"]
    with app.app_context(), tenant_scope(acme.tenant_id):
        kinds = list(db.session.scalars(db.select(SecurityEvent.kind)))
    assert "webhook.disabled" in kinds
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        SimpleWorker([Queue("mail", connection=connection)], connection=connection).work(burst=True)
    mails = smtp_server.wait_for(1)
    assert any(acme.email in m["To"] and "disabled" in m["Subject"] for m in mails)


def test_long_failure_disables_after_the_schedule(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    app.config["WEBHOOK_RETRY_SCHEDULE"] = (1, 2)
    try:
        with receiver([503]) as target:
            sub = _subscribe(api, target.url)
            api.create("document", name="Doc")
            _work(app)
            while _bring_retries_forward(app):
                _work(app)
            assert len(target.requests) == 3  # the first attempt and two retries
    finally:
        app.config.pop("WEBHOOK_RETRY_SCHEDULE")
    body = api.get(f"/webhooks/{sub['id']}").get_json()
    assert body["enabled"] is False and body["failure_count"] == 3


def test_production_refuses_a_loopback_target_that_tests_allow(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    assert api.post("/webhooks", json={"url": "http://127.0.0.1:9/x"}).status_code == 201
    app.config["TWOFOLD_ENV"] = "production"
    try:
        for url in ("http://127.0.0.1:9/x", "http://169.254.169.254/latest", "http://10.0.0.1/",
                    "http://localhost/x", "http://[::1]/x"):
            response = api.post("/webhooks", json={"url": url})
            assert response.status_code == 422, url
            assert "url" in response.get_json()["errors"]
    finally:
        app.config["TWOFOLD_ENV"] = "development"


def test_ping_is_delivered(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    with receiver() as target:
        sub = _subscribe(api, target.url)
        assert api.post(f"/webhooks/{sub['id']}/ping").status_code == 202
        _work(app)
        assert Webhook(sub["secret"]).verify(target.requests[0].body, target.requests[0].headers)[
            "type"] == "webhook.ping"


def test_crud_and_tenant_isolation(app: Flask) -> None:
    acme, other = crm_tenant(app, "acme"), crm_tenant(app, "other")
    api, their = Api(app, acme), Api(app, other)
    sub = _subscribe(api, "http://127.0.0.1:9/x")
    assert api.patch(f"/webhooks/{sub['id']}", json={"event_kinds": ["stage.changed"]}).get_json()[
        "event_kinds"] == ["stage.changed"]
    assert [s["id"] for s in api.get("/webhooks").get_json()["data"]] == [sub["id"]]
    assert their.get("/webhooks").get_json()["data"] == []
    for response in (
        their.get(f"/webhooks/{sub['id']}"), their.patch(f"/webhooks/{sub['id']}", json={"enabled": False}),
        their.get(f"/webhooks/{sub['id']}/deliveries"), their.post(f"/webhooks/{sub['id']}/ping"),
        their.delete(f"/webhooks/{sub['id']}"),
    ):
        assert response.status_code == 404
    assert api.get(f"/webhooks/{sub['id']}").get_json()["enabled"] is True
    assert api.delete(f"/webhooks/{sub['id']}").status_code == 204
    assert api.get(f"/webhooks/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url"])
def test_a_bad_url_is_a_field_error(app: Flask, url: str) -> None:
    api = Api(app, crm_tenant(app, "acme"))
    response = api.post("/webhooks", json={"url": url})
    assert response.status_code == 422 and "url" in response.get_json()["errors"]


def test_secret_is_stored_for_signing(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    sub = _subscribe(Api(app, acme), "http://127.0.0.1:9/x")
    with app.app_context(), tenant_scope(acme.tenant_id):
        row = db.session.get(WebhookSubscription, (acme.tenant_id, uuid.UUID(sub["id"])))
        assert row.secret == sub["secret"]
