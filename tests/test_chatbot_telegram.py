"""The chatbot on Telegram: whole conversations replayed from Bot API updates.

Telegram is the local stand-in of tests/support/bot_api.py; everything else is real: the
webhook route, the database, the outbox, Redis and an RQ worker for a manager's reply.
"""

from __future__ import annotations

import uuid

from flask import Flask

from tests.support.bot_api import BotApi
from tests.support.chatbot import ANSWERS, connect, counts, post, settle, shop, work
from tests.support.chatbot import telegram as telegram  # the fake Bot API fixture
from tests.support.crm import Api
from tests.support.telegram_updates import USER, conversation, update
from twofold.channels.models import ContactIdentity, Conversation
from twofold.db import db
from twofold.entities.models import Activity, Record, Relation
from twofold.tenancy.scope import tenant_scope


def test_a_whole_conversation_makes_one_contact_one_conversation_one_lead(
    app: Flask, telegram: BotApi
) -> None:
    tenant = shop(app, "sofas")
    path, secret = connect(app, tenant, telegram)
    replies = []
    for payload in conversation(5000, ANSWERS):
        response = post(app, path, secret, payload)
        assert response.status_code == 200
        replies.append(response.get_json())

    # Every answer rode back in the webhook's response: no Bot API call was needed.
    assert telegram.sent() == []
    assert all(r["method"] == "sendMessage" and r["chat_id"] == str(USER["id"]) for r in replies)
    assert "shop's bot" in replies[0]["text"] and "What are you looking for?" in replies[0]["text"]
    assert [b["text"] for b in replies[1]["reply_markup"]["keyboard"][0]] == ["small"]
    assert replies[2]["text"] == "What is your budget?"
    assert replies[3]["text"].startswith("Just the number, please.")  # "lots" is asked again
    assert replies[4]["text"] == "How should we reach you?"
    assert replies[5]["text"] == "Your phone number?"
    assert replies[6]["text"] == "Thanks! A manager will write to you here."
    assert replies[6]["reply_markup"] == {"remove_keyboard": True}

    # The answers are all in: a worker makes the records, from the event the last one wrote.
    assert counts(app, tenant.tenant_id)["leads"] == 0
    settle(app)
    assert counts(app, tenant.tenant_id) == {
        "identities": 1, "conversations": 1, "messages": 14, "contacts": 1, "leads": 1,
        "completed_events": 1,
    }
    with app.app_context(), tenant_scope(tenant.tenant_id):
        lead = db.session.scalar(db.select(Record).where(Record.entity_type == "lead"))
        contact = db.session.scalar(db.select(Record).where(Record.entity_type == "contact"))
        assert lead.data["need"] == "A sofa"
        assert lead.data["size"] == "large"
        assert lead.data["budget"] == 1500
        assert lead.data["campaign"] == "spring_ads"
        assert lead.data["source"] == "telegram"
        assert lead.stage_id is not None  # in the pack's pipeline, at its first stage
        assert contact.data == {"name": "Ivan Petrov", "phone": "+79123456789"}
        relation = db.session.scalar(db.select(Relation))
        assert (relation.from_id, relation.role, relation.to_id) == (lead.id, "contact", contact.id)
        chat = db.session.scalar(db.select(Conversation))
        assert chat.state == "waiting" and chat.lead_id == lead.id and chat.completed_at is not None
        assert chat.source == {"channel": "telegram", "start": "spring_ads"}
        identity = db.session.scalar(db.select(ContactIdentity))
        assert identity.contact_id == contact.id
        timeline = db.session.scalar(
            db.select(Activity).where(Activity.record_id == lead.id, Activity.kind == "conversation")
        )
        said = [line["text"] for line in timeline.changes["transcript"] if line["author"] == "client"]
        assert said == ANSWERS  # the whole conversation, from its first message


def test_the_same_updates_five_times_change_nothing_more(app: Flask, telegram: BotApi) -> None:
    tenant = shop(app, "sofas")
    path, secret = connect(app, tenant, telegram)
    updates = conversation(6000, ANSWERS)
    first_answers = [post(app, path, secret, payload).get_json() for payload in updates]
    settle(app)
    once = counts(app, tenant.tenant_id)
    assert (once["leads"], once["completed_events"]) == (1, 1)
    for _ in range(5):
        for payload, first in zip(updates, first_answers, strict=True):
            response = post(app, path, secret, payload)
            assert response.status_code == 200  # Telegram stops re-sending on a 2xx
            # It re-sends when our answer was lost on the way: the client gets it again.
            assert response.get_json() == first
        settle(app)
    assert counts(app, tenant.tenant_id) == once


def test_a_wrong_or_missing_secret_writes_nothing(app: Flask, telegram: BotApi) -> None:
    tenant = shop(app, "sofas")
    path, secret = connect(app, tenant, telegram)
    before = counts(app, tenant.tenant_id)
    wrong = post(app, path, secret + "x", update(7000, "hello"))
    missing = app.test_client().post(path, json=update(7001, "hello"))
    assert wrong.status_code == 403 and missing.status_code == 403
    assert "error" in wrong.get_json()
    assert counts(app, tenant.tenant_id) == before
    unknown = post(app, f"/hooks/telegram/{uuid.uuid4()}", secret, update(7002, "hello"))
    assert unknown.status_code == 404


def test_a_wrong_token_is_refused_when_connecting(app: Flask, telegram: BotApi) -> None:
    tenant = shop(app, "sofas")
    response = Api(app, tenant).post("/channels", json={"kind": "telegram", "name": "Bot", "token": "nope"})
    assert response.status_code == 422
    assert "Unauthorized" in response.get_json()["errors"]["token"][0]
    assert Api(app, tenant).get("/channels").get_json()["data"] == []


def test_a_managers_reply_reaches_the_client_on_telegram(app: Flask, telegram: BotApi) -> None:
    tenant = shop(app, "sofas")
    path, secret = connect(app, tenant, telegram)
    for payload in conversation(8000, ANSWERS):
        post(app, path, secret, payload)
    api = Api(app, tenant)
    (waiting,) = api.get("/conversations?state=waiting").get_json()["data"]
    text = "Hello Ivan, which colour?"
    response = api.post(f"/conversations/{waiting['id']}/messages", json={"text": text})
    assert response.status_code == 201, response.get_json()
    work(app)
    assert telegram.sent() == [
        {"chat_id": str(USER["id"]), "text": text, "reply_markup": {"remove_keyboard": True}}
    ]
    detail = api.get(f"/conversations/{waiting['id']}").get_json()
    assert detail["state"] == "human" and detail["first_human_reply_at"] is not None
    assert detail["messages"][-1]["status"] == "sent"
    # The client answers: stored, and the bot keeps quiet while a human has the conversation.
    response = post(app, path, secret, update(8100, "Green"))
    assert response.get_json() == {}
    assert api.get(f"/conversations/{waiting['id']}").get_json()["messages"][-1]["text"] == "Green"
    work(app)
    assert len(telegram.sent()) == 1


def test_a_returning_client_is_matched_and_known_answers_are_skipped(app: Flask, telegram: BotApi) -> None:
    tenant = shop(app, "sofas")
    path, secret = connect(app, tenant, telegram)
    for payload in conversation(9000, ANSWERS):
        post(app, path, secret, payload)
    settle(app)
    api = Api(app, tenant)
    (first,) = api.get("/conversations").get_json()["data"]
    assert api.post(f"/conversations/{first['id']}/close").status_code == 200
    again = conversation(9100, ["hi", "A table", "small", "Phone"])
    replies = [post(app, path, secret, p).get_json()["text"] for p in again]
    # The phone is the contact's already: the bot does not ask it again.
    assert replies[-1] == "Thanks! A manager will write to you here."
    settle(app)
    found = counts(app, tenant.tenant_id)
    assert (found["contacts"], found["leads"], found["conversations"], found["identities"]) == (1, 2, 2, 1)


def test_an_automation_writes_to_the_client_once_on_their_channel(app: Flask, telegram: BotApi) -> None:
    """A rule on conversation.completed sends a message: the client gets it once, on Telegram."""
    tenant = shop(app, "sofas")
    path, secret = connect(app, tenant, telegram)
    api = Api(app, tenant)
    response = api.post("/automations/rules", json={
        "name": "Thank the client", "entity_type": "lead",
        "trigger": {"type": "event", "event": "conversation.completed"},
        "actions": [{"type": "send_message", "params": {"text": "We got your request: {need}."}}],
    })
    assert response.status_code == 201, response.get_json()
    rule_id = response.get_json()["id"]
    for payload in conversation(9500, ANSWERS):
        post(app, path, secret, payload)
    settle(app)  # the records, then the rule's job, then the delivery
    assert [m["text"] for m in telegram.sent()] == ["We got your request: A sofa."]
    runs = api.get(f"/automations/rules/{rule_id}/runs").get_json()["data"]
    assert [[a["status"] for a in r["actions"]] for r in runs] == [["ok"]], runs
