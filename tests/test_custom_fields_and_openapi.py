"""A custom field added at run time is in the API and the OpenAPI document at once."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.crm import Api, crm_tenant


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app, crm_tenant(app, "acme"))


def test_a_custom_field_appears_in_the_api_and_openapi_at_once(app: Flask, api: Api) -> None:
    before = api.get("/openapi.json").get_json()
    assert "loyalty_level" not in before["components"]["schemas"]["PersonInput"]["properties"]

    added = api.post(
        "/entity-types/person/fields",
        json={
            "name": "loyalty_level",
            "label": "Loyalty level",
            "type": "choice",
            "choices": ["bronze", "silver", "gold"],
            "indexed": True,
        },
    )
    assert added.status_code == 201, added.get_json()

    person = api.create("person", first_name="Anna", loyalty_level="gold")
    assert person["loyalty_level"] == "gold"
    assert [r["first_name"] for r in api.get("/records/person?loyalty_level=gold").get_json()["data"]] == [
        "Anna"
    ]
    bad = api.post("/records/person", json={"first_name": "B", "loyalty_level": "platinum"})
    assert bad.status_code == 422 and "loyalty_level" in bad.get_json()["errors"]

    document = api.get("/openapi.json").get_json()
    prop = document["components"]["schemas"]["PersonInput"]["properties"]["loyalty_level"]
    assert prop["enum"][:3] == ["bronze", "silver", "gold"]
    params = {p["name"] for p in document["paths"]["/records/person"]["get"]["parameters"]}
    assert "loyalty_level" in params
    fields = {f["name"]: f for f in api.get("/entity-types/person").get_json()["fields"]}
    assert fields["loyalty_level"]["custom"] is True


def test_custom_fields_are_per_tenant(app: Flask, api: Api) -> None:
    api.post("/entity-types/person/fields", json={"name": "shoe_size", "type": "number"})
    other = Api(app, crm_tenant(app, "globex"))
    document = other.get("/openapi.json").get_json()
    assert "shoe_size" not in document["components"]["schemas"]["PersonInput"]["properties"]
    assert other.post("/records/person", json={"first_name": "X", "shoe_size": 42}).status_code == 422


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "Bad Name", "type": "text"}, "name"),
        ({"name": "email", "type": "text"}, "name"),  # the type already has it
        ({"name": "title", "type": "text"}, "name"),  # reserved
        ({"name": "tier", "type": "choice"}, "choices"),
        ({"name": "size", "type": "colour"}, "type"),
        ({"name": "ref", "type": "reference", "reference": "spaceship"}, "reference"),
        ({"name": "level", "type": "number", "default": "high"}, "default"),
    ],
)
def test_a_bad_custom_field_is_refused_per_field(api: Api, body: dict, field: str) -> None:
    response = api.post("/entity-types/person/fields", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    names = {f["name"] for f in api.get("/entity-types/person").get_json()["fields"]}
    assert body["name"] not in names or body["name"] == "email"


def test_a_unique_custom_field_dedupes(api: Api) -> None:
    api.post("/entity-types/person/fields", json={"name": "passport", "type": "text", "unique": True})
    api.create("person", first_name="A", passport="4510 123456")
    again = api.post("/records/person", json={"first_name": "B", "passport": "4510 123456"})
    assert again.status_code == 422 and "passport" in again.get_json()["errors"]


def test_removing_a_custom_field_keeps_the_stored_values(api: Api) -> None:
    field = api.post("/entity-types/person/fields", json={"name": "nickname", "type": "text"}).get_json()
    person = api.create("person", first_name="Anna", nickname="Annie")
    assert api.delete(f"/entity-types/person/fields/{field['id']}").status_code == 204
    assert "nickname" not in api.get(f"/records/person/{person['id']}").get_json()
    api.post("/entity-types/person/fields", json={"name": "nickname", "type": "text"})
    assert api.get(f"/records/person/{person['id']}").get_json()["nickname"] == "Annie"


def test_the_openapi_document_describes_every_enabled_type(api: Api) -> None:
    document = api.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    for type_name in ("person", "deal", "document"):
        assert f"/records/{type_name}" in document["paths"]
        assert f"/records/{type_name}/{{id}}/move" in document["paths"]
    email = document["components"]["schemas"]["PersonInput"]["properties"]["email"]
    assert email["format"] == "email"
    assert "first_name" in document["components"]["schemas"]["PersonInput"]["required"]
