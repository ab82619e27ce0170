"""Record pages as a person uses them: lists, forms, the record page, trash, merge."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.support import sales_pack
from tests.support.web import Browser, member_browser, owner_browser, record_id_from, text, visible_text
from twofold import sdk
from twofold.sdk import hookimpl
from twofold.web import records_views


@pytest.fixture
def sales(app: Flask) -> Iterator[None]:
    with sales_pack.installed(app):
        yield


def _ticket(b: Browser, subject: str, **values: object) -> str:
    response = b.api("post", "/records/ticket", json={"subject": subject, **values})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _field_block(html: str, name: str) -> str:
    """The form field's block: its label, input and the messages beside it."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="f-{name}">.*?</div>', html, re.S)
    assert match, f"no field {name} in the form"
    return match.group(0)


# --- navigation -------------------------------------------------------------------------


def test_navigation_has_a_link_per_type_and_only_the_settings_a_role_may_use(app: Flask) -> None:
    owner = owner_browser(app, "navco", "example")
    page = visible_text(text(owner.get("/")))
    assert "Tickets" in page and "Packs" in page and "Fields" in page and "Pipelines" in page
    assert 'href="/t/navco/records/ticket"' in text(owner.get("/"))

    agent = member_browser(app, owner, "agent@navco.example.com", "agent")
    html = text(agent.get("/"))
    assert 'href="/t/navco/records/ticket"' in html
    assert 'href="/t/navco/settings/packs/"' not in html and 'href="/t/navco/settings/fields/"' not in html
    assert 'href="/t/navco/settings/api-tokens"' in html or "API tokens" in visible_text(html)


class _BrokenPack:
    @hookimpl
    def twofold_pack(self) -> sdk.PackInfo:
        return sdk.PackInfo("broken", "Broken pack")

    @hookimpl
    def twofold_navigation(self) -> list:
        raise RuntimeError("the pack's navigation blew up")


def test_a_failing_pack_leaves_the_core_links_and_a_banner_naming_it(app: Flask) -> None:
    owner = owner_browser(app, "brokenco", "example")
    manager = app.extensions["twofold.plugins"]
    broken = _BrokenPack()
    manager.register(broken, name="broken")
    try:
        assert owner.api("post", "/packs/broken/enable").status_code == 200
        response = owner.get("/")
        assert response.status_code == 200
        page = visible_text(text(response))
        assert "The “broken” pack failed to load" in page
        assert "Packs" in page and "API tokens" in page
        # The packs page still opens, so an admin can turn the culprit off.
        assert owner.get("/settings/packs/").status_code == 200
        assert owner.post("/settings/packs/broken/disable").status_code == 302
        assert "failed to load" not in visible_text(text(owner.get("/")))
    finally:
        manager.unregister(broken)


def test_when_the_registry_cannot_be_built_the_core_links_still_show(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twofold.packs import registry
    from twofold.plugins import PluginFailed

    owner = owner_browser(app, "rawfail", "example")

    def fail() -> None:
        raise PluginFailed("example", "twofold_entity_types", RuntimeError("boom"))

    monkeypatch.setattr(registry, "build", fail)
    response = owner.get("/settings/members")
    assert response.status_code == 200
    page = visible_text(text(response))
    assert "The “example” pack failed to load" in page
    assert "Members" in page and "Packs" in page and "Tickets" not in page
    assert owner.get("/").status_code == 200


# --- lists ------------------------------------------------------------------------------


def test_list_filters_sorts_searches_and_pages_with_a_cursor(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = owner_browser(app, "listco", "example")
    _ticket(b, "Printer on fire", priority="high")
    _ticket(b, "Password reset", priority="low")
    _ticket(b, "VPN down", priority="high")

    page = visible_text(text(b.get("/records/ticket?priority=high")))
    assert "Printer on fire" in page and "VPN down" in page and "Password reset" not in page
    assert "Priority is high" in page  # the active filter, removable

    # The filter builder folds into the API's parameters.
    response = b.get("/records/ticket?filter_field=priority&filter_op=in&filter_value=low")
    assert response.status_code == 302 and response.headers["Location"].endswith("priority__in=low")

    assert "Password reset" in visible_text(text(b.get("/records/ticket?q=password")))
    assert "VPN down" not in visible_text(text(b.get("/records/ticket?q=password")))

    html = text(b.get("/records/ticket?sort=subject"))
    assert html.index("Password reset") < html.index("Printer on fire") < html.index("VPN down")

    monkeypatch.setattr(records_views, "PAGE_SIZE", 2)
    first = text(b.get("/records/ticket?sort=subject"))
    assert "VPN down" not in first
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = text(b.client.get(next_url))
    assert "VPN down" in second and "Password reset" not in second
    assert "First page" in second


def test_a_bad_filter_says_what_is_wrong(app: Flask) -> None:
    b = owner_browser(app, "badfilter", "example")
    response = b.get("/records/ticket?colour=red")
    assert response.status_code == 422
    assert "Ticket has no field 'colour'." in visible_text(text(response))


def test_empty_list_says_what_to_do_next(app: Flask) -> None:
    b = owner_browser(app, "emptyco", "example")
    page = visible_text(text(b.get("/records/ticket")))
    assert "No tickets yet." in page and "Create the first ticket" in page
    page = visible_text(text(b.get("/records/ticket?q=nothing")))
    assert "No tickets match “nothing”" in page and "Show all tickets" in page


# --- forms ------------------------------------------------------------------------------


def test_the_form_has_an_input_per_field_type(app: Flask, sales: None) -> None:
    b = owner_browser(app, "formco", "salestest")
    parent_id = b.api("post", "/records/company", json={"name": "Parent Co"}).get_json()["id"]
    html = text(b.get("/records/company/new"))
    assert re.search(r'id="f-name" name="name" type="text"[^>]*required[^>]*autofocus', html)
    for name, kind in [
        ("email", "email"),
        ("phone", "tel"),
        ("website", "url"),
        ("employees", "number"),
        ("founded", "date"),
        ("next_call", "datetime-local"),
        ("active", "checkbox"),
    ]:
        assert re.search(
            rf'id="f-{name}"[^>]*type="{kind}"|type="{kind}"[^>]*id="f-{name}"|'
            rf'id="f-{name}" name="{name}" type="{kind}"',
            html,
        ), name
    assert re.search(r'<select id="f-size" name="size"', html)
    assert re.search(r'<select id="f-tags" name="tags" multiple', html)
    assert f'<option value="{parent_id}"' in html  # reference: a select of companies
    assert f'<option value="{b.tenant.user_id}"' in html and b.email in html  # user: the members
    assert '<label for="f-founded">Founded</label>' in html


def test_a_record_with_every_field_type_is_created_from_the_form(app: Flask, sales: None) -> None:
    b = owner_browser(app, "allco", "salestest")
    parent_id = b.api("post", "/records/company", json={"name": "Parent Co"}).get_json()["id"]
    response = b.post(
        "/records/company/new",
        {
            "name": "Initech",
            "email": "Info@Initech.com",
            "phone": "+1 212 555 0100",
            "website": "https://initech.example",
            "employees": "120",
            "founded": "1999-02-19",
            "next_call": "2026-05-01T09:30",
            "active": ["false", "true"],
            "size": "large",
            "tags": ["", "vip", "partner"],
            "account_manager": str(b.tenant.user_id),
            "parent": parent_id,
            "owner_id": str(b.tenant.user_id),
        },
    )
    assert response.status_code == 302, visible_text(text(response))[:800]
    record_id = record_id_from(response.headers["Location"])
    body = b.api("get", f"/records/company/{record_id}").get_json()
    assert body["email"] == "info@initech.com" and body["employees"] == 120 and body["active"] is True
    assert body["tags"] == ["vip", "partner"] and body["parent"] == parent_id
    assert body["next_call"].startswith("2026-05-01T09:30")
    page = visible_text(text(b.client.get(response.headers["Location"])))
    assert (
        "Initech" in page and "Parent Co" in page and "2026-05-01 09:30 UTC" in page and "vip partner" in page
    )


def test_a_bad_email_shows_the_message_beside_the_field_and_creates_nothing(app: Flask) -> None:
    b = owner_browser(app, "badmail", "example")
    response = b.post(
        "/records/ticket/new",
        {
            "subject": "Broken printer",
            "requester_email": "not-an-email",
            "priority": "normal",
            "resolution": "",
        },
    )
    assert response.status_code == 422
    html = text(response)
    block = _field_block(html, "requester_email")
    assert 'class="error"' in block and "email address" in visible_text(block).lower()
    assert 'aria-invalid="true"' in block and "autofocus" in block  # the cursor is where the fix is
    assert 'value="Broken printer"' in html  # what was typed stays
    assert "nothing was saved" in visible_text(html)
    assert b.api("get", "/records/ticket").get_json()["data"] == []


def test_a_value_too_long_for_its_typed_column_is_a_field_error_not_a_crash(app: Flask, sales: None) -> None:
    b = owner_browser(app, "longco", "salestest")
    response = b.post("/records/deal/new", {"name": "Big deal", "amount": "10", "currency": "EURO"})
    assert response.status_code == 422
    assert "An ISO 4217 code, e.g. RUB." in visible_text(_field_block(text(response), "currency"))
    assert b.api("get", "/records/deal").get_json()["data"] == []
    response = b.post("/records/deal/new", {"name": "Big deal", "amount": "10", "currency": "EUR"})
    assert response.status_code == 302


def test_a_missing_required_field_is_marked(app: Flask) -> None:
    b = owner_browser(app, "reqco", "example")
    response = b.post("/records/ticket/new", {"subject": "  ", "priority": "normal"})
    assert response.status_code == 422
    assert "Missing data for required field." in visible_text(_field_block(text(response), "subject"))


def test_editing_writes_the_timeline_with_who_and_old_to_new(app: Flask) -> None:
    b = owner_browser(app, "editco", "example")
    ticket = _ticket(b, "Printer", priority="normal")
    form = text(b.get(f"/records/ticket/{ticket}/edit"))
    assert 'value="Printer"' in form
    response = b.post(
        f"/records/ticket/{ticket}/edit",
        {"subject": "Printer", "priority": "high", "requester_email": "", "resolution": ""},
    )
    assert response.status_code == 302
    page = visible_text(text(b.get(f"/records/ticket/{ticket}")))
    assert f"{b.email} changed" in page and "Priority: normal → high" in page
    assert f"{b.email} created this ticket" in page


def test_inline_cell_edit(app: Flask) -> None:
    b = owner_browser(app, "cellco", "example")
    ticket = _ticket(b, "Printer", priority="normal")
    assert f"/records/ticket/{ticket}/cell/priority" in text(b.get("/records/ticket"))
    editor = text(b.get(f"/records/ticket/{ticket}/cell/priority?edit=1", htmx=True))
    assert editor.lstrip().startswith("<td") and '<select id="c-priority" name="priority"' in editor

    bad = b.post(f"/records/ticket/{ticket}/cell/priority", {"priority": "urgent"}, htmx=True)
    assert bad.status_code == 422 and "Must be one of" in text(bad)

    good = b.post(f"/records/ticket/{ticket}/cell/priority", {"priority": "high"}, htmx=True)
    assert good.status_code == 200 and "high" in visible_text(text(good)) and "<form" not in text(good)
    assert b.api("get", f"/records/ticket/{ticket}").get_json()["priority"] == "high"


# --- trash, stage, relations, merge -------------------------------------------------------


def test_delete_goes_to_the_trash_and_restore_brings_it_back(app: Flask) -> None:
    b = owner_browser(app, "trashco", "example")
    ticket = _ticket(b, "Old request")
    page = text(b.get(f"/records/ticket/{ticket}"))
    assert 'data-confirm="Move “Old request” to the trash?' in page
    response = b.post(f"/records/ticket/{ticket}/delete")
    assert response.status_code == 302
    page = visible_text(text(b.client.get(response.headers["Location"])))
    assert "“Old request” is in the trash" in page and "No tickets yet." in page
    trash = visible_text(text(b.get("/records/ticket/trash")))
    assert "Old request" in trash and "Restore" in trash
    response = b.post(f"/records/ticket/{ticket}/restore")
    assert response.status_code == 302
    assert "Old request" in visible_text(text(b.get("/records/ticket")))
    assert "The trash is empty" in visible_text(text(b.get("/records/ticket/trash")))
    assert "restored it from the trash" in visible_text(text(b.get(f"/records/ticket/{ticket}")))


def test_an_agent_cannot_delete(app: Flask) -> None:
    owner = owner_browser(app, "agentco", "example")
    ticket = _ticket(owner, "Keep me")
    agent = member_browser(app, owner, "agent@agentco.example.com", "agent")
    page = text(agent.get(f"/records/ticket/{ticket}"))
    assert "/delete" not in page
    assert agent.post(f"/records/ticket/{ticket}/delete").status_code == 403


def test_a_refused_move_shows_the_unmet_requirement_next_to_the_control(app: Flask) -> None:
    b = owner_browser(app, "moveco", "example")
    ticket = _ticket(b, "Printer")
    stages = {s["key"]: s["id"] for s in b.api("get", "/pipelines").get_json()["data"][0]["stages"]}
    response = b.post(f"/records/ticket/{ticket}/move", {"stage": stages["resolved"], "reason": ""})
    assert response.status_code == 409
    html = text(response)
    box = html[html.index('id="stage-box"') : html.index('id="related"')]
    assert "Resolution must be filled in." in visible_text(box)
    assert b.api("get", f"/records/ticket/{ticket}").get_json()["stage_id"] == stages["new"]

    b.post(
        f"/records/ticket/{ticket}/edit",
        {"subject": "Printer", "resolution": "Unplugged it", "priority": "normal"},
    )
    response = b.post(f"/records/ticket/{ticket}/move", {"stage": stages["resolved"]})
    assert response.status_code == 302
    page = visible_text(text(b.client.get(response.headers["Location"])))
    assert "Moved to Resolved." in page and "moved it to Resolved" in page


def test_related_records_are_added_and_removed_by_role(app: Flask, sales: None) -> None:
    b = owner_browser(app, "relco", "salestest")
    company = b.api("post", "/records/company", json={"name": "Initech"}).get_json()["id"]
    deal = b.api("post", "/records/deal", json={"name": "Big deal"}).get_json()["id"]
    page = text(b.get(f"/records/deal/{deal}"))
    assert "Add a customer" in page and f'<option value="{company}">Initech</option>' in page

    bad = b.post(f"/records/deal/{deal}/relations", {"role": "customer", "to_id": "nope"})
    assert bad.status_code == 422 and "Pick a record" in visible_text(text(bad))

    assert (
        b.post(f"/records/deal/{deal}/relations", {"role": "customer", "to_id": company}).status_code == 302
    )
    relations = b.api("get", f"/records/deal/{deal}/relations").get_json()["data"]
    assert [(r["role"], r["to_id"]) for r in relations] == [("customer", company)]
    page = visible_text(text(b.get(f"/records/deal/{deal}")))
    assert "Customer Initech" in page and "added “Initech” as customer" in page
    assert "customer of Big deal" in visible_text(text(b.get(f"/records/company/{company}")))

    assert b.post(f"/records/deal/{deal}/relations/{relations[0]['id']}/remove").status_code == 302
    assert b.api("get", f"/records/deal/{deal}/relations").get_json()["data"] == []


def test_merge_from_the_page(app: Flask) -> None:
    b = owner_browser(app, "mergeco", "example")
    keep = _ticket(b, "Printer broken", priority="high")
    dupe = _ticket(b, "Printer broken", requester_email="ann@example.com")
    form = text(b.get(f"/records/ticket/{keep}/merge"))
    assert '<optgroup label="Same title">' in form and f'<option value="{dupe}">' in form
    assert f'<option value="{keep}">' not in form

    response = b.post(f"/records/ticket/{keep}/merge", {"duplicate_id": keep})
    assert response.status_code == 422 and "cannot be merged into itself" in visible_text(text(response))

    response = b.post(f"/records/ticket/{keep}/merge", {"duplicate_id": dupe})
    assert response.status_code == 302
    body = b.api("get", f"/records/ticket/{keep}").get_json()
    assert body["requester_email"] == "ann@example.com" and body["priority"] == "high"
    assert b.api("get", f"/records/ticket/{dupe}").status_code == 404
    page = visible_text(text(b.client.get(response.headers["Location"])))
    assert "merged the duplicate “Printer broken” into this" in page
