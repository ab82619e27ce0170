"""The website chat widget: whole conversations through its public routes, as its script
talks to them, a manager's reply fetched by polling, the embed script, and the demo
tenants' widget channels from their manifests.

Everything is real: the routes, the database, the outbox, Redis (the throttle) and an RQ
worker for a manager's reply.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import Queue, SimpleWorker

from tests.plugins import bot_fixture
from tests.support.chatbot import settle, shop
from tests.support.crm import Api
from tests.support.factories import TenantHandle
from twofold import manifests
from twofold.app import REPO_ROOT
from twofold.channels import delivery, widget_views
from twofold.channels.models import Channel, ContactIdentity, Conversation, Message
from twofold.db import db
from twofold.entities.models import Record
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import tenant_scope

VISITOR = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
OTHER_VISITOR = "ffffeeeeddddccccbbbbaaaa99998888"
ANSWERS = ["Hello", "A sofa", "large", "lots", "1500", "Phone", "+7 912 345-67-89"]
UTM = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring_sale"}
PAGE = "https://shop.example.com/sofas?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale"
REFERRER = "https://www.google.com/"


def connect(app: Flask, tenant: TenantHandle, name: str = "Website chat") -> dict[str, Any]:
    response = Api(app, tenant).post(
        "/channels", json={"kind": "widget", "name": name, "flow": bot_fixture.FLOW}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def say(app: Flask, channel_id: str, text: str, message_id: str, visitor: str = VISITOR) -> Any:
    return app.test_client().post(
        f"/chat/{channel_id}/messages",
        json={"visitor": visitor, "text": text, "message_id": message_id, "page": PAGE,
              "referrer": REFERRER, "utm": UTM},
    )


def poll(app: Flask, channel_id: str, visitor: str = VISITOR, after: str | None = None) -> Any:
    query = {"visitor": visitor, **({"after": after} if after else {})}
    return app.test_client().get(f"/chat/{channel_id}/messages", query_string=query)


def message_id(n: int) -> str:
    return f"msg-{n:04d}-0123456789abcdef"


def chat(app: Flask, channel_id: str, answers: list[str] = ANSWERS) -> list[dict[str, Any]]:
    bodies = []
    for n, text in enumerate(answers):
        response = say(app, channel_id, text, message_id(n))
        assert response.status_code == 201, response.get_json()
        bodies.append(response.get_json())
    return bodies


def counts(app: Flask, tenant_id: uuid.UUID) -> dict[str, int]:
    with app.app_context(), tenant_scope(tenant_id):
        def n(model: Any, *where: Any) -> int:
            return len(db.session.scalars(db.select(model).where(*where)).all())

        return {
            "identities": n(ContactIdentity), "conversations": n(Conversation), "messages": n(Message),
            "contacts": n(Record, Record.entity_type == "contact"),
            "leads": n(Record, Record.entity_type == "lead"),
        }


def test_a_whole_conversation_through_the_widget_makes_one_lead_with_the_pages_utm(app: Flask) -> None:
    tenant = shop(app, "sofas")
    channel = connect(app, tenant)
    public = app.config["PUBLIC_URL"].rstrip("/")
    assert channel["embed"] == f'<script src="{public}/chat/{channel["id"]}/widget.js" async></script>'
    bodies = chat(app, channel["id"])

    # Each answer came back in the response itself, the question's choices with it.
    replies = [b["replies"] for b in bodies]
    assert all(len(r) == 1 and r[0]["author"] == "bot" for r in replies)
    assert "shop's bot" in replies[0][0]["text"] and "What are you looking for?" in replies[0][0]["text"]
    assert replies[1][0]["choices"] == ["small", "large"]
    assert replies[3][0]["text"].startswith("Just the number, please.")
    assert replies[4][0]["choices"] == ["Phone", "Email"]
    assert replies[6][0]["text"] == "Thanks! A manager will write to you here."
    assert bodies[0]["message"]["author"] == "client" and bodies[0]["message"]["text"] == "Hello"
    assert bodies[-1]["state"] == "waiting"

    settle(app)  # a worker makes the records from the event the last answer wrote
    assert counts(app, tenant.tenant_id) == {
        "identities": 1, "conversations": 1, "messages": 14, "contacts": 1, "leads": 1,
    }
    with app.app_context(), tenant_scope(tenant.tenant_id):
        lead = db.session.scalar(db.select(Record).where(Record.entity_type == "lead"))
        contact = db.session.scalar(db.select(Record).where(Record.entity_type == "contact"))
        assert lead.data["need"] == "A sofa" and lead.data["budget"] == 1500
        assert lead.data["utm_source"] == "google"
        assert lead.data["utm_campaign"] == "spring_sale"
        assert lead.data["campaign"] == "spring_sale"
        assert lead.data["source"] == "widget"
        assert contact.data["phone"] == "+79123456789"
        assert contact.data["name"] == f"Website visitor {VISITOR[:6]}"
        conversation = db.session.scalar(db.select(Conversation))
        assert conversation.lead_id == lead.id
        assert conversation.source == {"channel": "widget", **UTM, "page": PAGE, "referrer": REFERRER}
        # Answered inside the response: nothing waits in a delivery queue.
        bot = db.session.scalars(db.select(Message).where(Message.author == "bot")).all()
        assert {m.status for m in bot} == {"answered"}


def test_a_repeated_message_id_changes_nothing(app: Flask) -> None:
    tenant = shop(app, "sofas")
    channel = connect(app, tenant)
    first = say(app, channel["id"], "Hello", message_id(100))
    assert first.status_code == 201
    once = counts(app, tenant.tenant_id)
    again = say(app, channel["id"], "Hello", message_id(100))  # a double click, a retry
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    # The same answer as the first time, so the widget shows it even if the first got lost.
    assert again.get_json()["replies"] == first.get_json()["replies"]
    assert again.get_json()["message"]["id"] == first.get_json()["message"]["id"]
    assert counts(app, tenant.tenant_id) == once

    for n, text in enumerate(ANSWERS[1:], start=1):
        assert say(app, channel["id"], text, message_id(n)).status_code == 201
    settle(app)
    done = counts(app, tenant.tenant_id)
    assert done["leads"] == 1
    for _ in range(2):
        for n, text in enumerate(ANSWERS, start=0):
            assert say(app, channel["id"], text, message_id(n or 100)).status_code == 200
    settle(app)
    assert counts(app, tenant.tenant_id) == done
    # The same message id from another visitor is another message.
    assert say(app, channel["id"], "Hi", message_id(1), visitor=OTHER_VISITOR).status_code == 201


def test_the_script_points_at_its_channels_endpoints(app: Flask) -> None:
    tenant = shop(app, "sofas")
    channel = connect(app, tenant, name="Sofa help")
    response = app.test_client().get(f"/chat/{channel['id']}/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    script = response.get_data(as_text=True)
    assert f'"messages": "/chat/{channel["id"]}/messages"' in script
    assert f'"script": "/chat/{channel["id"]}/widget.js"' in script
    assert '"title": "Sofa help"' in script
    assert "new URL(config.messages" in script  # resolved against the script's own src
    assert "localStorage" in script and "utm_source" in script and "document.referrer" in script
    assert "onclick" not in script.lower() and "eval(" not in script

    preflight = app.test_client().options(
        f"/chat/{channel['id']}/messages",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code < 300
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]


def test_unknown_disabled_or_other_kinds_of_channel_are_not_found(app: Flask) -> None:
    tenant = shop(app, "sofas")
    channel = connect(app, tenant)
    other = Api(app, tenant).post("/channels", json={"kind": "json", "name": "Hook"}).get_json()
    client = app.test_client()
    for channel_id in (str(uuid.uuid4()), other["id"]):
        assert client.get(f"/chat/{channel_id}/widget.js").status_code == 404
        assert say(app, channel_id, "Hi", message_id(1)).status_code == 404
        assert poll(app, channel_id).status_code == 404
    response = Api(app, tenant).patch(f"/channels/{channel['id']}", json={"enabled": False})
    assert response.status_code == 200
    assert client.get(f"/chat/{channel['id']}/widget.js").status_code == 404
    assert say(app, channel["id"], "Hi", message_id(1)).status_code == 404
    assert poll(app, channel["id"]).status_code == 404
    assert counts(app, tenant.tenant_id)["messages"] == 0


def test_history_after_a_reload_shows_the_transcript(app: Flask) -> None:
    tenant = shop(app, "sofas")
    channel = connect(app, tenant)
    assert poll(app, channel["id"]).get_json() == {"state": None, "messages": []}
    chat(app, channel["id"], ANSWERS[:3])
    body = poll(app, channel["id"]).get_json()
    assert body["state"] == "bot"
    assert [(m["author"], m["text"]) for m in body["messages"]][::2] == [
        ("client", "Hello"), ("client", "A sofa"), ("client", "large")
    ]
    assert [m["author"] for m in body["messages"]] == ["client", "bot"] * 3
    assert body["messages"][-1]["text"] == "What is your budget?"
    assert "status" not in body["messages"][0] and "author_user_id" not in body["messages"][0]
    # Polling from the last one seen: only what came after it, by id or by time.
    after_id = poll(app, channel["id"], after=body["messages"][3]["id"]).get_json()["messages"]
    assert [m["text"] for m in after_id] == ["large", "What is your budget?"]
    after_time = poll(app, channel["id"], after=body["messages"][-1]["created_at"]).get_json()["messages"]
    assert after_time == []


def _work(app: Flask) -> None:
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        SimpleWorker([Queue(delivery.QUEUE, connection=connection)], connection=connection).work(burst=True)


def test_a_managers_reply_reaches_the_visitor_by_polling_and_nobody_else(app: Flask) -> None:
    tenant = shop(app, "sofas")
    channel = connect(app, tenant)
    chat(app, channel["id"])
    last_seen = poll(app, channel["id"]).get_json()["messages"][-1]["id"]
    api = Api(app, tenant)
    (waiting,) = api.get("/conversations?state=waiting").get_json()["data"]
    response = api.post(f"/conversations/{waiting['id']}/messages", json={"text": "Hello, which colour?"})
    assert response.status_code == 201, response.get_json()
    _work(app)  # the widget has no push: the job marks the reply stored for the visitor
    assert api.get(f"/conversations/{waiting['id']}").get_json()["messages"][-1]["status"] == "sent"

    body = poll(app, channel["id"], after=last_seen).get_json()
    assert body["state"] == "human"
    assert [(m["author"], m["text"]) for m in body["messages"]] == [("human", "Hello, which colour?")]
    # The visitor answers: stored, the bot keeps quiet while a human has the conversation.
    answer = say(app, channel["id"], "Green", message_id(50))
    assert answer.status_code == 201 and answer.get_json()["replies"] == []
    assert api.get(f"/conversations/{waiting['id']}").get_json()["messages"][-1]["text"] == "Green"

    # Another visitor id, or the same id on another channel, reads nothing of it.
    assert poll(app, channel["id"], visitor=OTHER_VISITOR).get_json() == {"state": None, "messages": []}
    second = connect(app, tenant, name="Second site")
    assert poll(app, second["id"]).get_json() == {"state": None, "messages": []}
    stranger = shop(app, "chairs")
    theirs = connect(app, stranger)
    assert poll(app, theirs["id"]).get_json() == {"state": None, "messages": []}


def test_bad_input_is_a_422_and_stores_nothing(app: Flask) -> None:
    tenant = shop(app, "sofas")
    channel = connect(app, tenant)
    client = app.test_client()
    path = f"/chat/{channel['id']}/messages"
    bad = ("short", "x" * 49, "has space in it 123456", "<script>alert(1)</script>", None, 12345678901234567)
    for visitor in bad:
        response = client.post(path, json={"visitor": visitor, "text": "Hi", "message_id": message_id(1)})
        assert response.status_code == 422, visitor
        assert "visitor" in response.get_json()["errors"]
        if isinstance(visitor, int):
            continue  # in a query string every value is text, and these digits are a fine id
        response = client.get(path, query_string={"visitor": visitor} if visitor else {})
        assert response.status_code == 422 and "visitor" in response.get_json()["errors"]
    response = client.post(path, json={"visitor": VISITOR, "text": "  ", "message_id": "1"})
    errors = response.get_json()["errors"]
    assert set(errors) == {"text", "message_id"}
    response = client.post(path, json={"visitor": VISITOR, "text": "x" * 4001, "message_id": message_id(1),
                                       "utm": "google"})
    assert set(response.get_json()["errors"]) == {"text", "utm"}
    assert client.post(path, data="not json", content_type="text/plain").status_code == 422
    response = poll(app, channel["id"], after="yesterday")
    assert response.status_code == 422 and "after" in response.get_json()["errors"]
    assert counts(app, tenant.tenant_id)["messages"] == 0


def test_a_visitor_posting_in_a_loop_is_throttled(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widget_views, "SEND_LIMIT", "3 per minute")
    tenant = shop(app, "sofas")
    channel = connect(app, tenant)
    statuses = [say(app, channel["id"], f"Hi {n}", message_id(n)).status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert counts(app, tenant.tenant_id)["messages"] == 3 + 3  # three in, three bot answers


# --- manifests and the demo page ----------------------------------------------------------------


MANIFEST = """slug = "sofa-demo"
name = "Sofa Demo"
packs = ["botshop"]

[[users]]
email = "owner@sofa-demo.example.com"
password = "correct horse battery"
role = "owner"

[[channels]]
kind = "widget"
name = "Website chat"
flow = "botshop.lead"

[[channels]]
kind = "widget"
name = "Later chat"
flow = "botshop.not-yet"
"""


def _widget_channels(app: Flask, slug: str) -> list[tuple[str, str | None]]:
    with app.app_context():
        tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == slug))
        with tenant_scope(tenant.id):
            rows = db.session.scalars(db.select(Channel).where(Channel.kind == "widget")).all()
            return sorted((c.name, c.flow_key) for c in rows)


def test_a_manifest_connects_its_channels_once_and_skips_a_missing_flow(
    app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = app.extensions["twofold.plugins"]
    if plugins.manager.get_plugin(bot_fixture.NAME) is None:
        plugins.register(bot_fixture, name=bot_fixture.NAME)
    manifest = tmp_path / "sofa.toml"
    manifest.write_text(MANIFEST)
    with caplog.at_level(logging.WARNING, logger="twofold.manifests"), app.app_context():
        (first,) = manifests.apply_path(manifest)
    assert first.channels == [
        "Website chat (widget), created", "Later chat (widget) (skipped: no bot flow botshop.not-yet)",
    ]
    assert first.channel_kinds == {"widget"}  # `make run` prints the demo page for it
    assert "bot flow 'botshop.not-yet' does not exist" in caplog.text
    assert "channels: Website chat (widget), created" in first.summary
    runner = app.test_cli_runner()
    again = runner.invoke(args=["tenants", "apply", str(manifest)])
    assert again.exit_code == 0, again.output
    assert _widget_channels(app, "sofa-demo") == [("Website chat", bot_fixture.FLOW)]

    # The channel works, and the demo page shows its script tag.
    page = app.test_client().get("/demo/chat/sofa-demo")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with app.app_context():
        tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == "sofa-demo"))
        with tenant_scope(tenant.id):
            channel_id = db.session.scalar(db.select(Channel.id).where(Channel.kind == "widget"))
    assert f'<script src="/chat/{channel_id}/widget.js" async></script>' in html
    assert "onclick" not in html.lower()
    assert say(app, str(channel_id), "Hello", message_id(1)).get_json()["replies"][0]["choices"] == []


def test_the_demo_page_is_for_development_only(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = shop(app, "sofas")
    assert app.test_client().get(f"/demo/chat/{tenant.slug}").status_code == 404  # no widget yet
    connect(app, tenant)
    assert app.test_client().get(f"/demo/chat/{tenant.slug}").status_code == 200
    assert app.test_client().get("/demo/chat/nobody-here").status_code == 404
    monkeypatch.setitem(app.config, "TWOFOLD_ENV", "production")
    assert app.test_client().get(f"/demo/chat/{tenant.slug}").status_code == 404


def test_the_demo_manifests_declare_a_widget_with_their_packs_flow(app: Flask) -> None:
    tenants = REPO_ROOT / "tenants"
    declared = {
        data["slug"]: [(c["kind"], c["flow"]) for c in data.get("channels", [])]
        for data in (manifests.load(f) for f in sorted(tenants.glob("*.toml")))
    }
    assert declared == {"demo-shop": [("widget", "b2c.lead")], "demo-industrial": [("widget", "b2b.deal")]}
    # Applied twice, as `make run` does on every start: whether or not the packs ship their
    # flows yet, nothing crashes and no channel is doubled.
    with app.app_context():
        manifests.apply_path(tenants)
        applied = manifests.apply_path(tenants)
    for result in applied:
        (state,) = result.channels
        assert state.startswith("Website chat (widget)")
        assert len(_widget_channels(app, result.slug)) == (0 if "skipped" in state else 1)
        assert ("widget" in result.channel_kinds) == ("skipped" not in state)


def test_a_manifest_with_malformed_channels_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "bad.toml"
    manifest.write_text('slug = "bad"\nname = "Bad"\n\n[[channels]]\nname = "Chat"\n')
    with pytest.raises(manifests.ManifestError, match="needs a 'kind'"):
        manifests.load(manifest)
    manifest.write_text('slug = "bad"\nname = "Bad"\nchannels = "widget"\n')
    with pytest.raises(manifests.ManifestError, match=r"\[\[channels\]\]"):
        manifests.load(manifest)
