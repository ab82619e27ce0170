"""Settings pages: packs, custom fields, pipelines, and the API description."""

from __future__ import annotations

import re

from flask import Flask

from tests.support.web import member_browser, owner_browser, text, visible_text


def test_a_custom_field_added_in_settings_is_in_the_form_and_the_list_at_once(app: Flask) -> None:
    b = owner_browser(app, "fieldco", "example")
    b.api("post", "/records/ticket", json={"subject": "Printer"})
    page = text(b.get("/settings/fields/?type=ticket"))
    assert "Add a field to tickets" in visible_text(page) and 'id="f-label"' in page

    response = b.post(
        "/settings/fields/ticket",
        {
            "label": "Channel",
            "name": "channel",
            "type": "choice",
            "choices": "email, phone, chat",
            "indexed": "on",
        },
    )
    assert response.status_code == 302
    settings = visible_text(text(b.client.get(response.headers["Location"])))
    assert (
        "Field “Channel” added." in settings
        and "Channel channel Choice email, phone, chat indexed custom" in settings
    )

    form = text(b.get("/records/ticket/new"))
    assert '<select id="f-channel" name="channel"' in form and '<option value="chat"' in form
    listing = text(b.get("/records/ticket"))
    assert ">Channel" in listing and "/cell/channel" in listing

    response = b.post("/records/ticket/new", {"subject": "VPN", "channel": "chat", "priority": "normal"})
    assert response.status_code == 302
    assert "chat" in visible_text(text(b.get("/records/ticket?channel=chat")))


def test_a_bad_custom_field_shows_errors_beside_the_inputs_and_adds_nothing(app: Flask) -> None:
    b = owner_browser(app, "badfield", "example")
    response = b.post("/settings/fields/ticket", {"label": "Bad", "name": "Bad Name", "type": "text"})
    assert response.status_code == 422
    html = text(response)
    name_block = html[html.index('<label for="f-name">') : html.index('<label for="f-type">')]
    assert "Lowercase letters, digits and underscores, starting with a letter." in visible_text(name_block)
    assert 'value="Bad Name"' in html

    response = b.post("/settings/fields/ticket", {"label": "Kind", "name": "kind", "type": "choice"})
    assert response.status_code == 422
    html = text(response)
    choices_block = html[html.index('<label for="f-choices">') : html.index('<label for="f-reference">')]
    assert "List the choices." in visible_text(choices_block)

    response = b.post("/settings/fields/ticket", {"name": "subject", "type": "text"})
    assert response.status_code == 422 and "Ticket already has a field named subject." in visible_text(
        text(response)
    )
    names = [f["name"] for f in b.api("get", "/entity-types/ticket").get_json()["fields"]]
    assert names == ["subject", "requester_email", "priority", "resolution"]


def test_removing_a_custom_field(app: Flask) -> None:
    b = owner_browser(app, "rmfield", "example")
    created = b.api(
        "post", "/entity-types/ticket/fields", json={"name": "channel", "type": "text"}
    ).get_json()
    page = text(b.get("/settings/fields/?type=ticket"))
    remove = f"/settings/fields/ticket/{created['id']}/remove"
    assert remove in page and "data-confirm=" in page
    assert b.post(remove).status_code == 302
    assert "channel" not in [f["name"] for f in b.api("get", "/entity-types/ticket").get_json()["fields"]]
    assert 'name="channel"' not in text(b.get("/records/ticket/new"))


def test_packs_are_enabled_and_disabled_from_the_page(app: Flask) -> None:
    b = owner_browser(app, "packco")
    page = text(b.get("/settings/packs/"))
    assert "Support tickets" in page and "/settings/packs/example/enable" in page
    assert "No record types yet" not in page
    assert "enable a pack to get its pipelines and boards" in visible_text(text(b.get("/pipelines/")))

    response = b.post("/settings/packs/example/enable")
    assert response.status_code == 302
    home = text(b.client.get(response.headers["Location"]))
    assert "Support tickets is on." in visible_text(home) and 'href="/t/packco/records/ticket"' in home
    assert "Support" in visible_text(text(b.get("/pipelines/")))

    page = text(b.get("/settings/packs/"))
    assert "/settings/packs/example/disable" in page and "data-confirm=" in page
    assert b.post("/settings/packs/example/disable").status_code == 302
    html = text(b.get("/"))
    assert 'href="/t/packco/records/ticket"' not in html
    assert b.get("/records/ticket").status_code == 404


def test_only_admins_manage_packs_and_fields(app: Flask) -> None:
    owner = owner_browser(app, "roleco", "example")
    manager = member_browser(app, owner, "manager@roleco.example.com", "manager")
    assert manager.get("/settings/packs/").status_code == 403
    assert manager.post("/settings/packs/example/disable").status_code == 403
    assert manager.get("/settings/fields/").status_code == 403
    assert manager.post("/settings/fields/ticket", {"name": "x", "type": "text"}).status_code == 403
    assert "example" in [p["name"] for p in owner.api("get", "/packs").get_json()["data"] if p["enabled"]]
    # Pipelines and the API description are for everyone.
    assert manager.get("/pipelines/").status_code == 200
    assert manager.get("/api-docs/").status_code == 200


def test_the_pipelines_page_lists_stages_with_their_requirements(app: Flask) -> None:
    b = owner_browser(app, "pipeco", "example")
    page = visible_text(text(b.get("/pipelines/")))
    assert "Support · Tickets default Open the board" in page
    assert "Resolved won 100% Resolution filled in" in page
    assert "Rejected lost 0% a reason" in page
    assert "New open 0% nothing" in page


def test_the_api_page_describes_the_tenants_types_and_serves_the_json(app: Flask) -> None:
    b = owner_browser(app, "apico", "example")
    b.api("post", "/entity-types/ticket/fields", json={"name": "channel", "type": "text", "label": "Channel"})
    html = text(b.get("/api-docs/"))
    page = visible_text(html)
    assert "POST /records/ticket Create a ticket" in page
    assert "priority query string" in page  # a filter parameter
    assert re.search(r"<code>channel</code></td><td>string</td>", html)  # the custom field, in the schema
    assert "one of: low, normal, high" in page
    assert 'href="#schema-TicketInput"' in html

    response = b.get("/api-docs/openapi.json?download=1")
    assert response.status_code == 200 and response.is_json
    assert "attachment" in response.headers["Content-Disposition"]
    document = response.get_json()
    assert "channel" in document["components"]["schemas"]["TicketInput"]["properties"]
    assert b.client.get("/t/apico/api-docs/openapi.json", headers={}).status_code == 200
    assert (
        app.test_client().get("/t/apico/api-docs/openapi.json").status_code == 302
    )  # signed out: sign in first
