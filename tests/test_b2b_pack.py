"""The B2B pack, as a tenant gets it: its types, the gated deals funnel and the bot flow.

The pack is loaded from its installed distribution like any plugin. Gates are tried through
the move API, the bot flow through a whole Telegram conversation (Telegram is the local
stand-in of tests/support/bot_api.py), and the pack beside the B2C pack in one tenant.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from rq import Queue, SimpleWorker

from tests.support import chatbot as chat
from tests.support.bot_api import GOOD_TOKEN, BotApi
from tests.support.crm import Api
from tests.support.factories import TenantHandle, signup
from tests.support.telegram_updates import conversation
from twofold.channels import flows
from twofold.db import db
from twofold.entities.models import Record, Relation
from twofold.packs import registry
from twofold.tenancy.scope import tenant_scope
from twofold_b2b.entities import CONTACT
from twofold_b2b.tax_ids import valid_inn, valid_kpp

telegram = chat.telegram  # the fake Bot API fixture of the chatbot's tests

FUNNEL = ["qualification", "discovery", "proposal", "negotiation", "approval", "contract",
          "won", "lost", "on_hold"]


def enable(app: Flask, tenant: TenantHandle, *packs: str) -> Api:
    api = Api(app, tenant)
    for pack in packs:
        response = api.post(f"/packs/{pack}/enable")
        assert response.status_code == 200, response.get_json()
    return api


def move(api: Api, deal_id: str, stage: str, **extra: Any) -> Any:
    return api.post(f"/records/deal/{deal_id}/move", json={"stage": stage, **extra})


def unmet(response: Any) -> list[str]:
    assert response.status_code == 409, response.get_json()
    return sorted(u["name"] for u in response.get_json()["error"]["unmet"])


def stage_of(api: Api, record: dict[str, Any]) -> str:
    (deals,) = [p for p in api.get("/pipelines").get_json()["data"] if p["key"] == "deals"]
    return next(s["key"] for s in deals["stages"] if s["id"] == record["stage_id"])


def relate(api: Api, deal_id: str, role: str, to_id: str) -> None:
    response = api.post(f"/records/deal/{deal_id}/relations", json={"role": role, "to_id": to_id})
    assert response.status_code == 201, response.get_json()


def test_enabling_the_pack_brings_its_types_funnel_and_flow(app: Flask) -> None:
    tenant = signup(app, "steelworks")
    api = Api(app, tenant)
    assert api.get("/records/deal").status_code == 404  # nothing before the pack is on
    enable(app, tenant, "b2b")

    types = {t["name"]: t for t in api.get("/entity-types").get_json()["data"]}
    assert {"company", "contact", "deal", "document", "term"} <= set(types)
    fields = {name: {f["name"]: f for f in types[name]["fields"]} for name in types}
    assert [(n, fields["contact"][n]["type"]) for n in ("name", "phone", "email", "telegram", "position",
                                                         "company")] == [
        ("name", "text"), ("phone", "phone"), ("email", "email"), ("telegram", "text"),
        ("position", "text"), ("company", "reference")]
    assert fields["company"]["legal_name"]["required"]
    assert fields["company"]["parent"]["reference"] == "company"
    assert fields["deal"]["amount"]["column"] == "amount" and fields["deal"]["currency"]["default"] == "RUB"
    assert "discount" in fields["deal"]["risk_flags"]["choices"]
    assert fields["document"]["approval"]["default"] == "draft"
    roles = {r["name"]: r["to_type"] for r in types["deal"]["relations"]}
    assert {roles[r] for r in ("initiator", "budget_approver", "document_reviewer", "signer", "user",
                               "influencer")} == {"contact"}
    assert (roles["company"], roles["proposal"], roles["contract"]) == ("company", "document", "document")

    (deals,) = [p for p in api.get("/pipelines").get_json()["data"] if p["key"] == "deals"]
    assert deals["entity_type"] == "deal"
    assert [s["key"] for s in deals["stages"]] == FUNNEL
    assert [s["probability"] for s in deals["stages"]] == [10, 20, 40, 60, 75, 90, 100, 0, 0]

    (flow,) = [f for f in api.get("/bot-flows").get_json()["data"] if f["key"] == "b2b.deal"]
    assert flow["name"] == "New inquiry" and flow["pack"] == "b2b"
    # The order of the records matters (the first is the matched contact, the last the deal):
    # it survives the API's JSON, so an admin who saves the flow back keeps it.
    definition = flow["definition"]
    assert definition["records"] == [["contact", "contact"], ["company", "company"], ["deal", "deal"]]
    with app.app_context(), tenant_scope(tenant.tenant_id):
        assert flows.problems(definition, registry.current().entity_types) == []
        db.session.remove()
    assert flow["definition"]["links"] == [
        ["deal", "initiator", "contact"], ["deal", "company", "company"], ["contact", "company", "company"]]

    # A company is checked like any record: the legal name is required, the size a choice.
    bad = api.post("/records/company", json={"size": "huge"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"legal_name", "size"}
    assert api.get("/records/company").get_json()["data"] == []


def test_each_gate_refuses_the_move_until_its_requirement_is_met(app: Flask) -> None:
    api = enable(app, signup(app, "steelworks"), "b2b")
    company = api.create("company", legal_name="Uralmash Trading LLC", tax_id="7707083893", size="251-1000")
    buyer = api.create("contact", name="Olga Smirnova", position="Procurement", company=company["id"])
    cfo = api.create("contact", name="Pavel Orlov", position="CFO", company=company["id"])
    deal = api.create("deal", name="200 valves DN50", amount="1250000.00")
    assert stage_of(api, deal) == "qualification"
    relate(api, deal["id"], "company", company["id"])
    relate(api, deal["id"], "initiator", buyer["id"])

    # Proposal needs a proposal document.
    assert unmet(move(api, deal["id"], "proposal")) == ["proposal"]
    proposal = api.create("document", name="Offer v1", kind="proposal")
    relate(api, deal["id"], "proposal", proposal["id"])
    assert move(api, deal["id"], "proposal").status_code == 200
    assert move(api, deal["id"], "negotiation").status_code == 200

    # Approval needs a budget approver on the buying committee.
    refused = move(api, deal["id"], "approval")
    assert unmet(refused) == ["budget_approver"]
    assert "budget approver" in refused.get_json()["error"]["unmet"][0]["message"]
    relate(api, deal["id"], "budget_approver", cfo["id"])
    assert move(api, deal["id"], "approval").status_code == 200

    # Contract needs a signer and an approved contract: a draft contract is not enough.
    assert unmet(move(api, deal["id"], "contract")) == ["contract", "signer"]
    relate(api, deal["id"], "signer", cfo["id"])  # one person may hold several roles
    contract = api.create("document", name="Supply contract", kind="contract")
    assert contract["approval"] == "draft"
    relate(api, deal["id"], "contract", contract["id"])
    assert unmet(move(api, deal["id"], "contract")) == ["contract"]
    assert api.patch(f"/records/document/{contract['id']}", json={"approval": "in_review"}).status_code == 200
    assert unmet(move(api, deal["id"], "contract")) == ["contract"]
    assert api.patch(f"/records/document/{contract['id']}", json={"approval": "approved"}).status_code == 200
    assert move(api, deal["id"], "contract").status_code == 200

    # Won needs the approved contract: a contract sent back to review stops the deal again.
    api.patch(f"/records/document/{contract['id']}", json={"approval": "rejected"})
    assert unmet(move(api, deal["id"], "won")) == ["contract"]
    api.patch(f"/records/document/{contract['id']}", json={"approval": "approved"})
    won = move(api, deal["id"], "won")
    assert won.status_code == 200, won.get_json()
    history = api.get(f"/records/deal/{deal['id']}/history").get_json()["data"]
    assert len(history) == 6  # entered qualification, then five moves; no refused one counted


def test_a_jump_over_stages_still_meets_every_gate_and_lost_and_hold_need_reasons(app: Flask) -> None:
    api = enable(app, signup(app, "steelworks"), "b2b")
    deal = api.create("deal", name="Pipes for the new plant")
    assert unmet(move(api, deal["id"], "won")) == ["budget_approver", "contract", "proposal", "signer"]
    assert unmet(move(api, deal["id"], "contract")) == ["budget_approver", "contract", "proposal", "signer"]

    assert unmet(move(api, deal["id"], "lost")) == ["lost_reason"]
    assert api.patch(f"/records/deal/{deal['id']}", json={"lost_reason": "Went with a cheaper rival"}
                     ).status_code == 200
    assert move(api, deal["id"], "lost").status_code == 200

    frozen = api.create("deal", name="Boilers, phase two")
    assert unmet(move(api, frozen["id"], "on_hold")) == ["hold_reason", "review_date"]
    api.patch(f"/records/deal/{frozen['id']}", json={"hold_reason": "Budget frozen until Q3"})
    assert unmet(move(api, frozen["id"], "on_hold")) == ["review_date"]
    api.patch(f"/records/deal/{frozen['id']}", json={"review_date": "2027-07-01"})
    assert move(api, frozen["id"], "on_hold").status_code == 200
    # And back to an earlier stage once it thaws.
    assert move(api, frozen["id"], "discovery").status_code == 200


INQUIRY = ["/start expo_2026", "Uralmash Trading LLC", "Procurement manager", "200 valves DN50",
           "huge", "251-1000", "this quarter", "Email", "not an email", "olga@uralmash.example.com"]


def test_a_telegram_inquiry_makes_a_contact_a_company_and_a_deal_they_initiated(
    app: Flask, telegram: BotApi
) -> None:
    tenant = signup(app, "steelworks")
    api = enable(app, tenant, "b2b")
    response = api.post("/channels", json={"kind": "telegram", "name": "Sales bot", "flow": "b2b.deal",
                                           "token": GOOD_TOKEN})
    assert response.status_code == 201, response.get_json()
    channel = response.get_json()
    hook = next(p for m, p in telegram.calls if m == "setWebhook")
    path, secret = f"/hooks/telegram/{channel['id']}", hook["secret_token"]

    replies = []
    for payload in conversation(41000, INQUIRY):
        response = chat.post(app, path, secret, payload)
        assert response.status_code == 200
        replies.append(response.get_json()["text"])
    assert "Which company do you represent?" in replies[0]
    assert replies[3] == "How many people work at your company?"
    # "huge" is not a size: the size question again…
    assert replies[4].startswith("Please choose") and replies[4].endswith(replies[3])
    assert replies[8].startswith("That does not look like an e-mail")  # …and the e-mail too
    assert replies[9] == "Thank you! Your manager will contact you shortly."
    chat.settle(app)  # a worker makes the records from the event the last answer wrote

    with app.app_context(), tenant_scope(tenant.tenant_id):
        def of(kind: str) -> list[Record]:
            return list(db.session.scalars(db.select(Record).where(Record.entity_type == kind)))

        (contact,), (company,), (deal,) = of("contact"), of("company"), of("deal")
        assert contact.data == {"name": "Ivan Petrov", "position": "Procurement manager",
                                "email": "olga@uralmash.example.com", "company": str(company.id)}
        assert company.data == {"legal_name": "Uralmash Trading LLC", "size": "251-1000", "strategic": False}
        assert deal.data["name"] == "200 valves DN50"
        assert (deal.data["timeline"], deal.data["source"], deal.data["campaign"]) == (
            "this quarter", "telegram", "expo_2026")
        assert deal.currency == "RUB"
        links = {(r.from_id, r.role, r.to_id) for r in db.session.scalars(db.select(Relation))}
        assert links == {(deal.id, "initiator", contact.id), (deal.id, "company", company.id)}
        db.session.remove()
    (mine,) = api.get("/records/deal").get_json()["data"]
    assert stage_of(api, mine) == "qualification"  # the bot's deal entered the funnel

    # conversation.completed: the pack's rule gives the deal a manager and a call to make.
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        queues = [Queue(name, connection=connection) for name in ("events", "automations", "default")]
        for _ in range(2):
            SimpleWorker(queues, connection=connection).work(burst=True)
    assert api.get(f"/records/deal/{mine['id']}").get_json()["owner_id"] == str(tenant.user_id)
    tasks = api.get("/records/task").get_json()["data"]
    assert [(t["subject"], t["related_id"]) for t in tasks] == [
        ("Call back about: 200 valves DN50", mine["id"])]


def test_a_tenant_runs_b2b_and_b2c_side_by_side(app: Flask) -> None:
    tenant = signup(app, "both")
    api = enable(app, tenant, "b2c", "b2b")
    packs = {p["name"]: p["enabled"] for p in api.get("/packs").get_json()["data"]}
    assert packs["b2b"] and packs["b2c"]
    types = {t["name"]: t for t in api.get("/entity-types").get_json()["data"]}
    contact = {f["name"]: f["type"] for f in types["contact"]["fields"]}
    assert {k: contact[k] for k in ("name", "phone", "email", "telegram", "position", "company")} == {
        "name": "text", "phone": "phone", "email": "email", "telegram": "text", "position": "text",
        "company": "reference"}

    # One contact serves both packs; the B2B deal funnel works beside the B2C one.
    company = api.create("company", legal_name="Kama Foods JSC")
    person = api.create("contact", name="Anna Belova", phone="+7 912 000-11-22", telegram="@anna",
                        position="Head of purchasing", company=company["id"])
    duplicate = api.post("/records/contact", json={"name": "Anna B.", "phone": "+79120001122"})
    assert duplicate.status_code == 422 and "phone" in duplicate.get_json()["errors"]
    deal = api.create("deal", name="Packaging line")
    relate(api, deal["id"], "initiator", person["id"])
    assert unmet(move(api, deal["id"], "proposal")) == ["proposal"]
    pipelines = {p["key"]: p["entity_type"] for p in api.get("/pipelines").get_json()["data"]}
    assert pipelines["deals"] == "deal"
    # Each pack's own bot flow is there, and the contact carries both packs' fields.
    assert {"b2b", "b2c"} <= {f["pack"] for f in api.get("/bot-flows").get_json()["data"]}
    assert set(contact) > {f.name for f in CONTACT.fields}
    with app.app_context(), tenant_scope(tenant.tenant_id):
        current = registry.current()
        assert current.failures == {}
        db.session.remove()


@pytest.mark.parametrize(("value", "ok"), [
    ("7707083893", True),     # an organisation: ten digits, the last a check digit
    ("7707083894", False),    # one digit off
    ("500100732259", True),   # a person: twelve digits, two check digits
    ("500100732250", False),
    ("77070838", False), ("77O7083893", False), ("", False),
])
def test_inn_check_digits(value: str, ok: bool) -> None:
    assert valid_inn(value) is ok


def test_kpp_shape() -> None:
    assert valid_kpp("773601001") and valid_kpp("7736AB001")
    assert not valid_kpp("77360100") and not valid_kpp("7736ab001") and not valid_kpp("77360100x")
