"""The one REST API for every entity type: validation, dedupe, filters, pages, trash."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.crm import Api, crm_tenant
from tests.support.factories import invite_and_join, signup
from twofold.db import db
from twofold.entities.models import Record
from twofold.tenancy.scope import unscoped


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app, crm_tenant(app, "acme"))


def _count_records(app: Flask) -> int:
    with app.app_context(), unscoped("counting rows for the test"):
        return db.session.scalar(db.select(db.func.count()).select_from(Record))


def test_create_read_update_with_normalised_values(api: Api) -> None:
    person = api.create(
        "person",
        first_name="Anna",
        last_name="Petrova",
        email=" Anna@Example.COM ",
        phone="+7 (912) 345-67-89",
        age=31,
        tags=["new", "loyal"],
        birthday="1994-05-02",
    )
    assert person["title"] == "Anna Petrova"
    assert person["email"] == "anna@example.com"
    assert person["phone"] == "+79123456789"
    assert person["vip"] is False  # the declared default
    fetched = api.get(f"/records/person/{person['id']}").get_json()
    assert fetched["tags"] == ["new", "loyal"] and fetched["birthday"] == "1994-05-02"

    changed = api.patch(f"/records/person/{person['id']}", json={"last_name": "Ivanova"}).get_json()
    assert changed["title"] == "Anna Ivanova"


def test_bad_values_answer_422_per_field_and_write_nothing(app: Flask, api: Api) -> None:
    before = _count_records(app)
    response = api.post(
        "/records/person",
        json={
            "first_name": "",
            "email": "not-an-email",
            "phone": "12",
            "age": "old",
            "segment": "vip",
            "website": "ftp://x",
            "nickname": "?",
        },
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"email", "phone", "age", "segment", "website", "nickname"} <= set(errors)
    assert _count_records(app) == before
    missing = api.post("/records/person", json={"last_name": "No first name"})
    assert missing.status_code == 422 and "first_name" in missing.get_json()["errors"]


def test_unique_fields_prevent_duplicates_after_normalisation(api: Api) -> None:
    api.create("person", first_name="Anna", email="anna@example.com", phone="+79123456789")
    again = api.post("/records/person", json={"first_name": "A.", "email": "ANNA@example.com"})
    assert again.status_code == 422 and "already exists" in again.get_json()["errors"]["email"][0]
    by_phone = api.post(
        "/records/person", json={"first_name": "B", "phone": "8 912 345 67 89".replace("8 ", "+7 ", 1)}
    )
    assert by_phone.status_code == 422 and "phone" in by_phone.get_json()["errors"]


def test_references_and_users_must_exist_in_the_tenant(app: Flask, api: Api) -> None:
    other = crm_tenant(app, "globex")
    foreign_person = Api(app, other).create("person", first_name="Foreign")
    bad = api.post("/records/deal", json={"name": "Deal", "manager": foreign_person["id"]})
    assert bad.status_code == 422 and "manager" in bad.get_json()["errors"]
    deal = api.create("deal", name="Deal")
    relation = api.post(
        f"/records/deal/{deal['id']}/relations", json={"role": "signer", "to_id": foreign_person["id"]}
    )
    assert relation.status_code == 422 and "to_id" in relation.get_json()["errors"]


def test_filters_sort_and_search(api: Api) -> None:
    for first, age, segment, tags in [
        ("Anna", 31, "retail", ["new"]),
        ("Boris", 45, "wholesale", ["loyal"]),
        ("Vera", 27, "retail", ["loyal", "risky"]),
        ("Gleb", None, None, []),
    ]:
        api.create("person", first_name=first, last_name="Test", age=age, segment=segment, tags=tags)

    def names(query: str) -> list[str]:
        response = api.get(f"/records/person?{query}")
        assert response.status_code == 200, response.get_json()
        return [r["first_name"] for r in response.get_json()["data"]]

    assert names("segment=retail&sort=first_name") == ["Anna", "Vera"]
    assert names("segment__in=retail,wholesale&sort=-age") == ["Boris", "Anna", "Vera"]
    assert names("age__gte=30&sort=age") == ["Anna", "Boris"]
    assert names("age__lt=30") == ["Vera"]
    assert names("first_name__contains=or&sort=first_name") == ["Boris"]
    assert names("segment__empty=true") == ["Gleb"]
    assert names("tags=loyal&sort=first_name") == ["Boris", "Vera"]
    assert names("q=vera test") == ["Vera"]
    assert names("sort=age") == ["Vera", "Anna", "Boris", "Gleb"]  # blanks last
    bad = api.get("/records/person?age__gte=old")
    assert bad.status_code == 422 and "age" in bad.get_json()["errors"]
    assert api.get("/records/person?nope=1").status_code == 422


@pytest.mark.parametrize("sort", ["-id", "first_name", "-age", "created_at"])
def test_keyset_pages_cover_every_record_once(api: Api, sort: str) -> None:
    api.post(
        "/records/person/bulk", json=[{"first_name": f"P{i:02d}", "age": i % 7 or None} for i in range(23)]
    )
    seen, cursor, pages = [], None, 0
    while True:
        query = f"sort={sort}&limit=5" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(f"/records/person?{query}").get_json()
        seen += [r["id"] for r in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 5 and len(seen) == 23 and len(set(seen)) == 23
    everything = [r["id"] for r in api.get(f"/records/person?sort={sort}&limit=100").get_json()["data"]]
    assert seen == everything
    assert api.get("/records/person?cursor=garbage").status_code == 422


def test_bulk_create_is_all_or_nothing(app: Flask, api: Api) -> None:
    before = _count_records(app)
    response = api.post(
        "/records/person/bulk", json=[{"first_name": "Ok"}, {"first_name": "Bad", "email": "x"}]
    )
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["1"]
    assert _count_records(app) == before
    assert (
        len(
            api.post("/records/person/bulk", json=[{"first_name": "A"}, {"first_name": "B"}]).get_json()[
                "data"
            ]
        )
        == 2
    )


def test_delete_goes_to_the_trash_and_restores(api: Api) -> None:
    person = api.create("person", first_name="Anna", email="anna@example.com")
    assert api.delete(f"/records/person/{person['id']}").status_code == 204
    assert api.get(f"/records/person/{person['id']}").status_code == 404
    trash = api.get("/records/person?trash=1").get_json()["data"]
    assert [r["id"] for r in trash] == [person["id"]]
    # While it is in the trash its email is free; a restore that would duplicate is refused.
    taken = api.create("person", first_name="Other Anna", email="anna@example.com")
    assert api.post(f"/records/person/{person['id']}/restore").status_code == 422
    api.delete(f"/records/person/{taken['id']}")
    assert api.post(f"/records/person/{person['id']}/restore").status_code == 200
    assert api.get(f"/records/person/{person['id']}").status_code == 200


def test_every_change_is_on_the_timeline_with_who_and_old_and_new(app: Flask, api: Api) -> None:
    person = api.create("person", first_name="Anna", age=30)
    api.patch(f"/records/person/{person['id']}", json={"age": 31, "segment": "retail"})
    timeline = api.get(f"/records/person/{person['id']}/timeline").get_json()["data"]
    assert [a["kind"] for a in timeline] == ["updated", "created"]
    assert timeline[0]["changes"] == {"age": [30.0, 31.0], "segment": [None, "retail"]}
    assert timeline[0]["user_id"] == person["owner_id"]


def test_roles_limit_what_an_agent_may_do(app: Flask) -> None:
    owner = crm_tenant(app, "acme")
    invite_and_join(app, owner, "agent@acme.example.com", "agent")
    agent_client = app.test_client()
    from tests.support.factories import login

    login(agent_client, "agent@acme.example.com")
    token = agent_client.post(
        "/t/acme/settings/tokens", data={"name": "agent"}, headers={"X-CSRFToken": _csrf(agent_client)}
    )
    raw = token.get_data(as_text=True).split('id="new-token">', 1)[1].split("<", 1)[0]
    agent = Api(app, owner)
    agent.headers = {"Authorization": f"Bearer {raw}"}
    person = agent.create("person", first_name="Made by agent")
    assert agent.delete(f"/records/person/{person['id']}").status_code == 403
    assert agent.post("/entity-types/person/fields", json={"name": "x", "type": "text"}).status_code == 403
    assert agent.post("/packs/testcrm/disable").status_code == 403


def _csrf(client) -> str:
    html = client.get("/t/acme/settings/tokens").get_data(as_text=True)
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_unknown_type_is_404(api: Api) -> None:
    assert api.get("/records/spaceship").status_code == 404
    assert api.post("/records/spaceship", json={}).status_code == 404


def test_a_tenant_without_the_pack_does_not_see_its_types(app: Flask, api: Api) -> None:
    plain = signup(app, "plain")
    assert Api(app, plain).get("/records/person").status_code == 404
