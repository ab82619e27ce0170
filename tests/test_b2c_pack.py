"""The B2C pack, as a company that enables it sees it: its records, its funnel, its bot.

The pack is loaded from its installed distribution, as any plugin is. Telegram is the
local stand-in of tests/support/bot_api.py; the database, the outbox, Redis and the RQ
workers that run the first-response rule are real.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask

from tests.support.bot_api import GOOD_TOKEN, BotApi, bot_api
from tests.support.chatbot import counts, post, settle
from tests.support.crm import Api
from tests.support.factories import TenantHandle, signup
from tests.support.telegram_updates import conversation
from tests.test_automations import drain
from twofold.channels import flows
from twofold.db import db
from twofold.entities.models import Record, Relation
from twofold.packs import registry
from twofold.tenancy.scope import tenant_scope

CONTACT_FIELDS = {"name", "phone", "email", "telegram", "tags", "segment", "lifecycle"}


@pytest.fixture
def telegram(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotApi]:
    with bot_api() as api:
        monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", api.url)
        yield api


def shop(app: Flask, slug: str, *packs: str) -> tuple[TenantHandle, Api]:
    tenant = signup(app, slug)
    api = Api(app, tenant)
    for pack in ("b2c", *packs):
        response = api.post(f"/packs/{pack}/enable")
        assert response.status_code == 200, response.get_json()
    return tenant, api


def stages(api: Api) -> dict[str, dict]:
    (leads,) = [p for p in api.get("/pipelines").get_json()["data"] if p["key"] == "leads"]
    return {s["key"]: s for s in leads["stages"]}


def stage_key(api: Api, record: dict) -> str:
    return next(k for k, s in stages(api).items() if s["id"] == record["stage_id"])


def test_enabling_the_pack_brings_its_types_funnel_rule_and_flow(app: Flask) -> None:
    tenant, api = shop(app, "shop")
    types = {t["name"]: t for t in api.get("/entity-types").get_json()["data"]}
    assert {"contact", "lead", "order", "campaign"} <= set(types)

    contact = {f["name"]: f for f in types["contact"]["fields"]}
    assert CONTACT_FIELDS | {"consent_email", "consent_sms_at", "consent_telegram_source"} <= set(contact)
    assert [(contact[n]["type"], contact[n]["unique"]) for n in ("phone", "email")] == [
        ("phone", True), ("email", True)]
    assert all(contact[n]["personal"] for n in ("name", "phone", "email", "telegram"))
    assert contact["lifecycle"]["choices"] == ["lead", "customer", "repeat_customer", "lapsed"]
    assert [r["name"] for r in types["lead"]["relations"]] == ["contact"]

    funnel = stages(api)
    assert list(funnel) == ["new", "contacted", "qualified", "paid", "lost"]
    assert [funnel[k]["kind"] for k in funnel] == ["open", "open", "open", "won", "lost"]

    rules = api.get("/automations/rules").get_json()["data"]
    assert [r["name"] for r in rules] == [
        "Answer a new lead within 15 minutes", "A lead from the bot goes to a manager"]

    listed = api.get("/bot-flows").get_json()["data"]
    (flow,) = [f for f in listed if f["key"] == "b2c.lead"]
    assert (flow["name"], flow["pack"]) == ("New lead", "b2c")
    with app.app_context(), tenant_scope(tenant.tenant_id):
        assert flows.problems(flow["definition"], registry.current().entity_types) == []


def test_contacts_default_to_lead_without_consent_and_orders_to_rubles(app: Flask) -> None:
    _tenant, api = shop(app, "shop")
    anna = api.create("contact", name="Anna", phone="+7 912 000-11-22")
    assert (anna["lifecycle"], anna["consent_email"], anna["consent_sms"]) == ("lead", False, False)
    assert anna["phone"] == "+79120001122"

    order = api.create("order", amount="2490.00", items="Blue sofa", status="paid")
    assert (order["currency"], order["status"], order["title"]) == ("RUB", "paid", "Blue sofa")
    bad = api.post("/records/order", json={"amount": "-", "items": "A chair"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"amount"}


def test_an_order_status_outside_its_choices_is_refused(app: Flask) -> None:
    _tenant, api = shop(app, "shop")
    bad = api.post("/records/order", json={"amount": "10.00", "status": "lost in the post"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"status"}


def test_lost_needs_a_reason_written_on_the_lead(app: Flask) -> None:
    _tenant, api = shop(app, "shop")
    lead = api.create("lead", need="A sofa for the living room")
    assert stage_key(api, lead) == "new"
    assert api.post(f"/records/lead/{lead['id']}/move", json={"stage": "contacted"}).status_code == 200

    refused = api.post(f"/records/lead/{lead['id']}/move", json={"stage": "lost"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["unmet"] == [
        {"kind": "field", "name": "lost_reason", "message": "Why lost must be filled in."}]
    assert stage_key(api, api.get(f"/records/lead/{lead['id']}").get_json()) == "contacted"

    api.patch(f"/records/lead/{lead['id']}", json={"lost_reason": "Found it cheaper elsewhere"})
    moved = api.post(f"/records/lead/{lead['id']}/move", json={"stage": "lost"})
    assert moved.status_code == 200 and stage_key(api, moved.get_json()["record"]) == "lost"


def test_a_new_lead_must_be_answered_within_fifteen_minutes(app: Flask) -> None:
    _tenant, api = shop(app, "shop")
    lead = api.create("lead", need="Curtains")
    typed = api.create("lead", need="A lamp", first_response_due="2030-01-01T09:00:00+00:00")
    drain(app)

    due = api.get(f"/records/lead/{lead['id']}").get_json()["first_response_due"]
    assert datetime.fromisoformat(due) - datetime.fromisoformat(lead["created_at"]) == timedelta(minutes=15)
    # A due time given with the lead (an import, a manager) is the lead's own: kept.
    kept = api.get(f"/records/lead/{typed['id']}").get_json()["first_response_due"]
    assert datetime.fromisoformat(kept) == datetime.fromisoformat("2030-01-01T09:00:00+00:00")


def test_a_telegram_conversation_makes_one_contact_and_one_lead_in_new(app: Flask, telegram: BotApi) -> None:
    tenant, api = shop(app, "shop")
    connected = api.post("/channels", json={"kind": "telegram", "name": "Shop bot", "flow": "b2c.lead",
                                            "token": GOOD_TOKEN})
    assert connected.status_code == 201, connected.get_json()
    hook = next(p for m, p in telegram.calls if m == "setWebhook")
    path = f"/hooks/telegram/{connected.get_json()['id']}"

    answers = ["/start autumn_sale", "A corner sofa", "by pigeon", "Phone", "8 912 345 67 89 ext",
               "+7 912 345-67-89"]
    replies = []
    for payload in conversation(7000, answers):
        response = post(app, path, hook["secret_token"], payload)
        assert response.status_code == 200
        replies.append(response.get_json()["text"])
    assert replies[0].startswith("Hello!") and replies[0].endswith("What would you like to buy or ask about?")
    assert replies[1] == "How should we reach you?"
    assert replies[2] == "Please choose one of the options.\n\nHow should we reach you?"  # asked again
    assert replies[3] == "Your phone number, please?"
    assert replies[4].startswith("That does not look like a phone number")
    assert replies[5].startswith("Thank you! A manager has your request")
    settle(app)  # a worker makes the records from the event the last answer wrote

    assert {k: v for k, v in counts(app, tenant.tenant_id).items() if k in ("contacts", "leads")} == {
        "contacts": 1, "leads": 1}
    with app.app_context(), tenant_scope(tenant.tenant_id):
        lead = db.session.scalar(db.select(Record).where(Record.entity_type == "lead"))
        contact = db.session.scalar(db.select(Record).where(Record.entity_type == "contact"))
        relation = db.session.scalar(db.select(Relation))
        assert (lead.data["need"], lead.data["source"], lead.data["campaign"]) == (
            "A corner sofa", "telegram", "autumn_sale")
        assert (contact.data["name"], contact.data["phone"]) == ("Ivan Petrov", "+79123456789")
        assert (relation.from_id, relation.role, relation.to_id) == (lead.id, "contact", contact.id)
        lead_id = str(lead.id)
    shown = api.get(f"/records/lead/{lead_id}").get_json()
    assert stage_key(api, shown) == "new"

    drain(app)  # the bot's lead starts the same first-response clock as any other
    handed = api.get(f"/records/lead/{lead_id}").get_json()
    assert handed["first_response_due"] is not None
    # conversation.completed: the lead has a person as its owner and a task to answer.
    assert handed["owner_id"] == str(tenant.user_id)
    tasks = api.get("/records/task").get_json()["data"]
    assert [(t["subject"], t["related_id"]) for t in tasks] == [("Answer the client: A corner sofa", lead_id)]


def test_here_in_chat_needs_no_contact_detail(app: Flask, telegram: BotApi) -> None:
    tenant, api = shop(app, "shop")
    connected = api.post("/channels", json={"kind": "telegram", "name": "Shop bot", "flow": "b2c.lead",
                                            "token": GOOD_TOKEN}).get_json()
    hook = next(p for m, p in telegram.calls if m == "setWebhook")
    replies = [
        post(app, f"/hooks/telegram/{connected['id']}", hook["secret_token"], payload).get_json()["text"]
        for payload in conversation(8000, ["Hi", "Gift card", "3"])  # "3": the third option, by number
    ]
    assert replies[-1].startswith("Thank you!")
    settle(app)
    assert {k: counts(app, tenant.tenant_id)[k] for k in ("contacts", "leads")} == {"contacts": 1, "leads": 1}
    with app.app_context(), tenant_scope(tenant.tenant_id):
        contact = db.session.scalar(db.select(Record).where(Record.entity_type == "contact"))
        assert contact.data["name"] == "Ivan Petrov" and "phone" not in contact.data


def test_b2c_and_the_example_pack_work_side_by_side(app: Flask) -> None:
    _tenant, api = shop(app, "shop", "example")
    keys = {p["key"] for p in api.get("/pipelines").get_json()["data"]}
    assert {"leads", "support"} <= keys
    ticket = api.create("ticket", subject="Where is my order?")
    lead = api.create("lead", need="A bed")
    assert api.post(f"/records/ticket/{ticket['id']}/move", json={"stage": "working"}).status_code == 200
    assert api.post(f"/records/lead/{lead['id']}/move", json={"stage": "qualified"}).status_code == 200
    names = [r["name"] for r in api.get("/automations/rules").get_json()["data"]]
    assert sorted(names) == [
        "A lead from the bot goes to a manager", "Answer a new lead within 15 minutes",
        "Escalate tickets left quiet for a day",
    ]
    drain(app)
    assert api.get(f"/records/lead/{lead['id']}").get_json()["first_response_due"] is not None
