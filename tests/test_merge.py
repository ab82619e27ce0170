"""Merging two records moves relations, timeline and stage history to the survivor."""

from __future__ import annotations

from flask import Flask

from tests.support.crm import Api, crm_tenant
from twofold.auth.models import SecurityEvent
from twofold.db import db
from twofold.tenancy.scope import tenant_scope


def test_merge_moves_everything_to_the_survivor_and_is_logged(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    survivor = api.create("person", first_name="Anna", email="anna@example.com")
    duplicate = api.create("person", first_name="Anna P.", phone="+79123456789", age=31)
    api.patch(f"/records/person/{duplicate['id']}", json={"segment": "retail"})
    deal = api.create("deal", name="Deal", amount="10.00")
    api.post(f"/records/deal/{deal['id']}/relations", json={"role": "signer", "to_id": duplicate["id"]})

    merged = api.post(f"/records/person/{survivor['id']}/merge", json={"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    assert body["first_name"] == "Anna"  # the survivor's own value wins
    assert body["phone"] == "+79123456789" and body["age"] == 31  # blanks filled from the duplicate

    assert api.get(f"/records/person/{duplicate['id']}").status_code == 404
    relations = api.get(f"/records/deal/{deal['id']}/relations").get_json()["data"]
    assert [(r["role"], r["to_id"]) for r in relations] == [("signer", survivor["id"])]
    kinds = [a["kind"] for a in api.get(f"/records/person/{survivor['id']}/timeline").get_json()["data"]]
    assert kinds.count("created") == 2 and "updated" in kinds and kinds[0] == "merged"

    # The phone was unique to the duplicate; after the merge it belongs to the survivor.
    again = api.post("/records/person", json={"first_name": "X", "phone": "+79123456789"})
    assert again.status_code == 422
    with app.app_context(), tenant_scope(acme.tenant_id):
        logged = db.session.scalar(db.select(SecurityEvent).where(SecurityEvent.kind == "record.merged"))
        assert logged.detail == {"survivor": survivor["id"], "duplicate": duplicate["id"]}


def test_merge_refuses_nonsense(app: Flask) -> None:
    api = Api(app, crm_tenant(app, "acme"))
    person = api.create("person", first_name="Anna")
    deal = api.create("deal", name="Deal")
    assert (
        api.post(f"/records/person/{person['id']}/merge", json={"duplicate_id": person["id"]}).status_code
        == 422
    )
    assert (
        api.post(f"/records/person/{person['id']}/merge", json={"duplicate_id": deal["id"]}).status_code
        == 422
    )
    assert api.post(f"/records/person/{person['id']}/merge", json={"duplicate_id": "x"}).status_code == 422


def test_a_deals_stage_history_follows_a_merge(app: Flask) -> None:
    api = Api(app, crm_tenant(app, "acme"))
    keep = api.create("deal", name="Deal", amount="5.00")
    dup = api.create("deal", name="Deal (copy)", amount="5.00")
    api.post(f"/records/deal/{dup['id']}/move", json={"stage": "proposal"})
    api.post(f"/records/deal/{keep['id']}/merge", json={"duplicate_id": dup["id"]})
    history = api.get(f"/records/deal/{keep['id']}/history").get_json()["data"]
    assert len(history) == 3  # keep's entry, dup's entry and dup's move
