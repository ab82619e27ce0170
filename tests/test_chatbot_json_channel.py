"""The generic JSON channel: signed messages in, the bot's reply in the response, a manager's
reply posted (signed) to the platform's reply URL — a local HTTP server here."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from rq import Queue, SimpleWorker

from tests.plugins import bot_fixture
from tests.support.chatbot import counts, settle, shop
from tests.support.crm import Api
from tests.support.receiver import receiver
from twofold.channels import delivery
from twofold.integrations import signing


def _send(app: Flask, channel: dict[str, Any], payload: dict[str, Any], *, secret: str | None = None) -> Any:
    body = json.dumps(payload).encode()
    signature = signing.signature(secret or channel["secrets"]["secret"], body)
    return app.test_client().post(
        f"/hooks/channels/{channel['id']}", data=body, content_type="application/json",
        headers={signing.HEADER: signature},
    )


def test_a_signed_conversation_gets_answers_and_a_lead(app: Flask) -> None:
    tenant = shop(app, "sofas")
    api = Api(app, tenant)
    with receiver() as platform:
        response = api.post("/channels", json={"kind": "json", "name": "Site chat", "flow": bot_fixture.FLOW,
                                                "reply_url": platform.url})
        assert response.status_code == 201, response.get_json()
        channel = response.get_json()
        assert channel["secrets"]["secret"]  # shown once…
        assert "secrets" not in api.get(f"/channels/{channel['id']}").get_json()  # …and never again

        texts = ["hello", "A lamp", "small", "Email", "ann@example.com"]
        answers = []
        for n, text in enumerate(texts):
            payload = {"user_id": "visitor-1", "message_id": f"m{n}", "text": text, "name": "Ann",
                       "source": {"utm_source": "newsletter", "utm_campaign": "winter"}}
            response = _send(app, channel, payload)
            assert response.status_code == 200
            answers.append(response.get_json()["replies"][0])
        assert answers[0]["text"].endswith("What are you looking for?")
        assert answers[1]["choices"] == ["small", "large"]
        assert answers[-1]["text"] == "Thanks! A manager will write to you here."
        settle(app)
        found = counts(app, tenant.tenant_id)
        assert (found["contacts"], found["leads"], found["conversations"]) == (1, 1, 1)
        lead = api.get("/records/lead").get_json()["data"][0]
        assert (lead["need"], lead["utm_source"], lead["utm_campaign"]) == ("A lamp", "newsletter", "winter")

        (chat,) = api.get("/conversations").get_json()["data"]
        reply = api.post(f"/conversations/{chat['id']}/messages", json={"text": "Which colour?"})
        assert reply.status_code == 201
        with app.app_context():
            connection = app.extensions["twofold.redis"]
            queues = [Queue(delivery.QUEUE, connection=connection)]
            SimpleWorker(queues, connection=connection).work(burst=True)
        (delivered,) = platform.requests
        assert json.loads(delivered.body) == {"to": "visitor-1", "text": "Which colour?"}
        signature = delivered.headers[signing.HEADER.lower()]
        assert signing.valid(channel["secrets"]["secret"], delivered.body, signature)


def test_a_bad_signature_or_body_writes_nothing(app: Flask) -> None:
    tenant = shop(app, "sofas")
    channel = Api(app, tenant).post("/channels", json={"kind": "json", "name": "Chat"}).get_json()
    before = counts(app, tenant.tenant_id)
    forged = _send(app, channel, {"user_id": "u", "message_id": "1", "text": "hi"}, secret="not-the-secret")
    assert forged.status_code == 403
    incomplete = _send(app, channel, {"text": "no ids"})
    assert incomplete.status_code == 422 and "user_id" in incomplete.get_json()["error"]["message"]
    assert counts(app, tenant.tenant_id) == before


def test_a_private_reply_url_is_refused_in_production(app: Flask, monkeypatch: Any) -> None:
    tenant = shop(app, "sofas")
    monkeypatch.setitem(app.config, "TWOFOLD_ENV", "production")
    response = Api(app, tenant).post("/channels", json={"kind": "json", "name": "Chat",
                                                         "reply_url": "http://127.0.0.1:9/replies"})
    assert response.status_code == 422 and "reply_url" in response.get_json()["errors"]
