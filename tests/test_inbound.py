"""Inbound: a web form and a signed JSON hook create records once, whatever is re-sent."""

from __future__ import annotations

import json
import uuid

from flask import Flask

from tests.support.crm import Api, crm_tenant
from twofold.db import db
from twofold.entities.models import Record
from twofold.integrations import signing
from twofold.integrations.models import IdempotencyKey
from twofold.tenancy.scope import tenant_scope

UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")


def _people(app: Flask, tenant_id: uuid.UUID) -> list[Record]:
    with app.app_context(), tenant_scope(tenant_id):
        rows = list(db.session.scalars(db.select(Record).where(Record.entity_type == "person")))
        db.session.expunge_all()
        return rows


def _form(app: Flask, api: Api) -> dict:
    for name in UTM:  # the tenant's lead type carries the UTM values as fields of its own
        response = api.post("/entity-types/person/fields", json={"name": name, "type": "text"})
        assert response.status_code == 201, response.get_json()
    field_map = {"name": "first_name", "email": "email", **{n: n for n in UTM}}
    response = api.post("/inbound", json={"kind": "form", "entity_type": "person", "field_map": field_map})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_web_form_creates_one_lead_with_utm(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    form = _form(app, api)
    assert f"/f/acme/{form['key']}" in form["snippet"]
    client = app.test_client()
    data = {"name": "Anna", "email": "anna@example.com", "utm_source": "google", "utm_medium": "cpc",
            "utm_campaign": "spring", "utm_term": "crm", "utm_content": "ad1"}
    headers = {"Idempotency-Key": "k-1", "Referer": "https://shop.example.com/landing"}
    first = client.post(f"/f/acme/{form['key']}", data=data, headers=headers)
    assert first.status_code == 201, first.get_json()
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = client.post(f"/f/acme/{form['key']}", data=data, headers=headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    people = _people(app, acme.tenant_id)
    assert len(people) == 1
    record = api.get(f"/records/person/{people[0].id}").get_json()
    assert record["utm_source"] == "google" and record["utm_campaign"] == "spring"
    assert record["utm_content"] == "ad1" and record["referrer"] == "https://shop.example.com/landing"
    # No key: a new submission is a new lead.
    assert client.post(f"/f/acme/{form['key']}", data={"name": "Bert"}).status_code == 201
    assert len(_people(app, acme.tenant_id)) == 2


def test_the_form_answers_field_errors_and_404s(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    form = _form(app, Api(app, acme))
    client = app.test_client()
    bad = client.post(f"/f/acme/{form['key']}", data={"name": "A", "email": "nope"})
    assert bad.status_code == 422 and "email" in bad.get_json()["errors"]
    assert client.post("/f/acme/nokey", data={"name": "A"}).status_code == 404
    assert client.post(f"/f/nobody/{form['key']}", data={"name": "A"}).status_code == 404
    assert client.options(f"/f/acme/{form['key']}").status_code == 204
    assert _people(app, acme.tenant_id) == []


def _hook(api: Api, **extra) -> dict:
    body = {"kind": "hook", "entity_type": "person", "id_field": "external_id", **extra}
    response = api.post("/inbound", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_signed_hook_creates_once_per_sender_id(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    hook = _hook(api)
    assert hook["secret"] and "secret" not in api.get(f"/inbound/{hook['id']}").get_json()
    raw = json.dumps({"external_id": "crm-42", "first_name": "Anna"}).encode()
    headers = {signing.HEADER: signing.signature(hook["secret"], raw), "Content-Type": "application/json"}
    client = app.test_client()
    first = client.post(f"/hooks/inbound/{hook['id']}", data=raw, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post(f"/hooks/inbound/{hook['id']}", data=raw, headers=headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert [p.data.get("first_name") for p in _people(app, acme.tenant_id)] == ["Anna"]
    with app.app_context(), tenant_scope(acme.tenant_id):
        assert db.session.scalar(db.select(db.func.count()).select_from(IdempotencyKey)) == 1


def test_a_bad_signature_is_401_and_writes_nothing(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    hook = _hook(Api(app, acme))
    raw = json.dumps({"external_id": "x", "first_name": "Eve"}).encode()
    client = app.test_client()
    tampered = raw.replace(b"Eve", b"Mal")
    attempts = [
        (raw, {}),
        (raw, {signing.HEADER: "sha256=" + "0" * 64}),
        (raw, {signing.HEADER: signing.signature("wrong secret", raw)}),
        (tampered, {signing.HEADER: signing.signature(hook["secret"], raw)}),  # another body
    ]
    for body, headers in attempts:
        response = client.post(f"/hooks/inbound/{hook['id']}", data=body,
                               headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 401
    assert _people(app, acme.tenant_id) == []
    with app.app_context(), tenant_scope(acme.tenant_id):
        assert db.session.scalar(db.select(db.func.count()).select_from(IdempotencyKey)) == 0
    assert client.post(f"/hooks/inbound/{uuid.uuid4()}", data=raw).status_code == 404


def test_inbound_endpoints_are_tenant_owned(app: Flask) -> None:
    acme, other = crm_tenant(app, "acme"), crm_tenant(app, "other")
    hook = _hook(Api(app, acme))
    their = Api(app, other)
    assert their.get(f"/inbound/{hook['id']}").status_code == 404
    assert their.delete(f"/inbound/{hook['id']}").status_code == 404
    assert their.get("/inbound").get_json()["data"] == []
