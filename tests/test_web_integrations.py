"""Settings → Integrations: webhooks, inbound forms and hooks, connectors, as an admin uses them."""

from __future__ import annotations

import json
import re
import uuid

from flask import Flask
from marshmallow import Schema, fields

from tests.plugins import connector_fixture
from tests.support.crm import Api, crm_tenant
from tests.support.factories import login
from tests.support.receiver import receiver
from tests.support.web import Browser, member_browser, text, visible_text
from tests.test_automations import drain
from tests.test_webhooks import _work
from twofold import sdk
from twofold.db import db
from twofold.entities.models import Record
from twofold.integrations import signing
from twofold.integrations.models import InboundEndpoint, WebhookSubscription
from twofold.sdk import hookimpl
from twofold.tenancy.scope import tenant_scope

BASE = "/settings/integrations"


def admin(app: Flask, slug: str) -> Browser:
    handle = crm_tenant(app, slug)
    client = app.test_client()
    login(client, handle.email)
    return Browser(client, handle, handle.email)


def count(app: Flask, browser: Browser, model: type) -> int:
    with app.app_context(), tenant_scope(browser.tenant.tenant_id):
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def block(html: str, start: str, end: str) -> str:
    """The part of the page between two markers (a field's label and the next one's)."""
    return html[html.index(start): html.index(end, html.index(start))]


# --- webhooks ---------------------------------------------------------------------------


def test_a_webhook_is_created_its_secret_shown_once_and_its_deliveries_logged(app: Flask) -> None:
    owner = admin(app, "acme")
    home = text(owner.get("/"))
    assert f'href="/t/acme{BASE}/webhooks"' in home  # in the settings menu
    page = visible_text(text(owner.get(f"{BASE}/webhooks")))
    assert "No webhooks yet." in page and "record.created" in page and "People" in page

    with receiver() as target:
        response = owner.post(f"{BASE}/webhooks", {
            "url": target.url, "description": "ERP", "event_kinds": ["record.created"],
            "entity_types": ["person"],
        })
        assert response.status_code == 200, visible_text(text(response))
        html = text(response)
        secret = re.search(r"whsec_[A-Za-z0-9+/=]+", html).group(0)
        with app.app_context(), tenant_scope(owner.tenant.tenant_id):
            sub = db.session.scalars(db.select(WebhookSubscription)).one()
            assert sub.secret == secret
            sub_id = sub.id
        assert "it will not be shown again" in visible_text(html)
        listing = text(owner.get(f"{BASE}/webhooks"))
        assert secret not in listing and target.url in listing and "No webhooks yet." not in listing
        assert "record.created" in visible_text(listing) and "enabled" in visible_text(listing)
        detail = text(owner.get(f"{BASE}/webhooks/{sub_id}"))
        assert secret not in detail and "Nothing sent yet." in visible_text(detail)

        Api(app, owner.tenant).create("person", first_name="Anna")
        _work(app)
        assert len(target.requests) == 1
    log = visible_text(text(owner.get(f"{BASE}/webhooks/{sub_id}")))
    assert "Delivery log" in log and "Nothing sent yet." not in log
    assert re.search(r"record\.created msg_\w+ 1 200 \d+ ms +delivered", log), log

    # Disable, enable, delete.
    assert owner.post(f"{BASE}/webhooks/{sub_id}/disable").status_code == 302
    listing = visible_text(text(owner.get(f"{BASE}/webhooks")))
    assert "disabled" in listing and "Enable" in listing
    assert Api(app, owner.tenant).get(f"/webhooks/{sub_id}").get_json()["enabled"] is False
    assert owner.post(f"{BASE}/webhooks/{sub_id}/enable").status_code == 302
    assert Api(app, owner.tenant).get(f"/webhooks/{sub_id}").get_json()["enabled"] is True
    response = owner.post(f"{BASE}/webhooks/{sub_id}/delete")
    assert response.status_code == 302
    assert "Webhook deleted" in visible_text(text(owner.client.get(response.headers["Location"])))
    assert count(app, owner, WebhookSubscription) == 0
    assert owner.get(f"{BASE}/webhooks/{sub_id}").status_code == 404


def test_a_failed_delivery_shows_its_error_and_next_retry(app: Flask) -> None:
    owner = admin(app, "acme")
    with receiver([500]) as target:
        owner.post(f"{BASE}/webhooks", {"url": target.url})
        with app.app_context(), tenant_scope(owner.tenant.tenant_id):
            sub_id = db.session.scalars(db.select(WebhookSubscription.id)).one()
        assert owner.post(f"{BASE}/webhooks/{sub_id}/ping").status_code == 302
        _work(app)
    log = visible_text(text(owner.get(f"{BASE}/webhooks/{sub_id}")))
    assert re.search(r"webhook\.ping msg_ping_\w+ 1 500 \d+ ms HTTP 500 \d{4}-\d\d-\d\d", log), log
    assert re.search(r"Failures in a row 1", log)


def test_a_bad_webhook_shows_field_errors_and_creates_nothing(app: Flask) -> None:
    owner = admin(app, "acme")
    response = owner.post(f"{BASE}/webhooks", {"url": "not a url", "description": "x" * 201,
                                              "event_kinds": ["record.created"]})
    assert response.status_code == 422
    html = text(response)
    url_block = block(html, '<label for="f-url">', '<label for="f-description">')
    assert "Not a valid URL." in visible_text(url_block) and 'aria-invalid="true"' in url_block
    assert 'value="not a url"' in html
    description = block(html, '<label for="f-description">', "<fieldset")
    assert "Longer than maximum length 200." in visible_text(description)
    assert re.search(r'value="record.created" checked', html)  # the ticked boxes stay ticked

    blank = owner.post(f"{BASE}/webhooks", {"url": ""})
    assert "Missing data for required field." in visible_text(text(blank))

    app.config["TWOFOLD_ENV"] = "production"
    try:
        response = owner.post(f"{BASE}/webhooks", {"url": "http://127.0.0.1:9/hook"})
    finally:
        app.config["TWOFOLD_ENV"] = "development"
    assert response.status_code == 422
    url_block = block(text(response), '<label for="f-url">', '<label for="f-description">')
    assert "private, loopback or link-local" in visible_text(url_block)
    assert count(app, owner, WebhookSubscription) == 0


# --- inbound ----------------------------------------------------------------------------


def test_a_web_form_is_created_with_its_snippet_and_the_script_posts_to_it(app: Flask) -> None:
    owner = admin(app, "acme")
    assert "No inbound forms or hooks yet." in visible_text(text(owner.get(f"{BASE}/inbound")))
    response = owner.post(f"{BASE}/inbound", {
        "kind": "form", "entity_type": "person", "field_map": "name = first_name\nemail = email\n",
    })
    assert response.status_code == 200, visible_text(text(response))
    with app.app_context(), tenant_scope(owner.tenant.tenant_id):
        endpoint = db.session.scalars(db.select(InboundEndpoint)).one()
        key, endpoint_id = endpoint.key, endpoint.id
    assert endpoint.field_map == {"name": "first_name", "email": "email"}
    page = text(response)
    tag = f'&lt;script src=&#34;http://localhost/f/acme/{key}.js&#34; defer&gt;&lt;/script&gt;'
    assert tag in page and "Web form created" in visible_text(page)
    assert tag in text(owner.get(f"{BASE}/inbound/{endpoint_id}"))
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers (a CSP comes later)

    script = app.test_client().get(f"/f/acme/{key}.js")
    assert script.status_code == 200 and script.mimetype == "application/javascript"
    body = script.get_data(as_text=True)
    config = json.loads(re.search(r"\}\)\((\{.*\})\);\s*$", body, re.S).group(1))
    assert config["action"] == f"http://localhost/f/acme/{key}" and config["key"] == key
    assert [(f["name"], f["field"], f["input"], f["required"]) for f in config["fields"]] == [
        ("name", "first_name", "text", True), ("email", "email", "email", False)]
    assert config["extras"] == []  # this form maps no UTM field: the script sends none
    for piece in ("Idempotency-Key", "utm_source", "utm_campaign", "document.referrer", "addEventListener",
                  "location.search", 'data-twofold-form'):
        assert piece in body, piece
    assert "onsubmit" not in body and "eval(" not in body
    assert app.test_client().get(f"/f/acme/{key[:-1]}x.js").status_code == 404
    assert app.test_client().get(f"/f/nobody/{key}.js").status_code == 404

    # What the script sends: a submission with its key, twice (a double click), is one lead.
    client = app.test_client()
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    for _ in range(2):
        posted = client.post(config["action"].removeprefix("http://localhost"),
                             data={"name": "Anna", "email": "anna@example.com"}, headers=headers)
        assert posted.status_code in (200, 201)
    with app.app_context(), tenant_scope(owner.tenant.tenant_id):
        assert db.session.scalar(db.select(db.func.count()).select_from(Record)) == 1
    bad = client.post(f"/f/acme/{key}", data={"name": "Bert", "email": "nope"})
    assert bad.status_code == 422 and "email" in bad.get_json()["errors"]

    # Disabled, the form and its script are gone; enabled again, back.
    assert owner.post(f"{BASE}/inbound/{endpoint_id}/disable").status_code == 302
    assert "disabled" in visible_text(text(owner.get(f"{BASE}/inbound")))
    assert app.test_client().get(f"/f/acme/{key}.js").status_code == 404
    assert client.post(f"/f/acme/{key}", data={"name": "Cleo"}).status_code == 404
    assert owner.post(f"{BASE}/inbound/{endpoint_id}/enable", {"back": "endpoint"}).status_code == 302
    assert app.test_client().get(f"/f/acme/{key}.js").status_code == 200


def test_a_form_without_a_field_map_takes_utm_only_where_the_type_has_such_fields(app: Flask) -> None:
    owner = admin(app, "acme")
    api = Api(app, owner.tenant)
    added = api.post("/entity-types/person/fields", json={"name": "utm_source", "type": "text"})
    assert added.status_code == 201
    owner.post(f"{BASE}/inbound", {"kind": "form", "entity_type": "person"})
    with app.app_context(), tenant_scope(owner.tenant.tenant_id):
        key = db.session.scalars(db.select(InboundEndpoint.key)).one()
    config_text = app.test_client().get(f"/f/acme/{key}.js").get_data(as_text=True)
    config = json.loads(re.search(r"\}\)\((\{.*\})\);\s*$", config_text, re.S).group(1))
    assert config["extras"] == ["utm_source"]
    assert "first_name" in [f["name"] for f in config["fields"]]
    posted = app.test_client().post(
        f"/f/acme/{key}", data={"first_name": "Anna", "utm_source": "google", "utm_medium": "cpc"},
        headers={"Referer": "https://shop.example.com/"},
    )
    assert posted.status_code == 201, posted.get_json()
    assert api.get(f"/records/person/{posted.get_json()['id']}").get_json()["utm_source"] == "google"


def test_a_signed_hook_shows_its_url_and_secret_once(app: Flask) -> None:
    owner = admin(app, "acme")
    response = owner.post(f"{BASE}/inbound",
                          {"kind": "hook", "entity_type": "person", "id_field": "external_id"})
    assert response.status_code == 200, visible_text(text(response))
    with app.app_context(), tenant_scope(owner.tenant.tenant_id):
        endpoint = db.session.scalars(db.select(InboundEndpoint)).one()
        secret, endpoint_id = endpoint.secret, endpoint.id
    page = text(response)
    assert secret in page and f"http://localhost/hooks/inbound/{endpoint_id}" in page
    assert signing.HEADER in page
    for path in (f"{BASE}/inbound", f"{BASE}/inbound/{endpoint_id}"):
        again = text(owner.get(path))
        assert secret not in again
    detail = visible_text(text(owner.get(f"{BASE}/inbound/{endpoint_id}")))
    assert f"http://localhost/hooks/inbound/{endpoint_id}" in detail and "shown once" in detail

    raw = json.dumps({"external_id": "e-1", "first_name": "Anna"}).encode()
    sent = app.test_client().post(f"/hooks/inbound/{endpoint_id}", data=raw, headers={
        signing.HEADER: signing.signature(secret, raw), "Content-Type": "application/json"})
    assert sent.status_code == 201, sent.get_json()


def test_a_bad_inbound_endpoint_shows_field_errors_and_creates_nothing(app: Flask) -> None:
    owner = admin(app, "acme")
    response = owner.post(f"{BASE}/inbound", {"kind": "form", "entity_type": "person",
                                              "field_map": "name = first_name\nemail = nosuchfield"})
    assert response.status_code == 422
    html = text(response)
    map_block = block(html, '<label for="f-field_map">', "</textarea>")
    assert 'aria-invalid="true"' in map_block
    map_errors = visible_text(block(html, '<label for="f-field_map">', "<button"))
    assert "Not a field of person: nosuchfield." in map_errors
    assert "email = nosuchfield" in html  # what was typed stays

    response = owner.post(f"{BASE}/inbound",
                          {"kind": "form", "entity_type": "person", "field_map": "just a name"})
    assert response.status_code == 422 and "Line 1: write" in visible_text(text(response))
    response = owner.post(f"{BASE}/inbound", {"kind": "fax", "entity_type": "nosuch"})
    assert response.status_code == 422
    page = visible_text(text(response))
    assert "Must be one of: form, hook." in page
    assert count(app, owner, InboundEndpoint) == 0


# --- connectors -------------------------------------------------------------------------

SYNCED: list[str] = []


class _SyncSettings(Schema):
    account = fields.String(required=True, metadata={"label": "Account id"})
    token = fields.String(required=True)
    nightly = fields.Boolean(load_default=False)


def pull_orders(settings: dict) -> str:
    SYNCED.append(f"{settings['account']}:{settings['token']}")
    return "2 orders"


class _SyncPlugin:
    @hookimpl
    def twofold_integrations(self) -> list[sdk.IntegrationSpec]:
        return [sdk.IntegrationSpec("synctest", "Sync test", settings_schema=_SyncSettings,
                                    secret_fields=("token",), sync_jobs=(pull_orders,))]


def _plugins(app: Flask) -> _SyncPlugin:
    plugins = app.extensions["twofold.plugins"]
    if plugins.manager.get_plugin(connector_fixture.NAME) is None:
        plugins.register(connector_fixture, name=connector_fixture.NAME)
    sync = _SyncPlugin()
    plugins.register(sync, name="synctest")
    return sync


def test_connector_settings_are_saved_secrets_never_shown_and_the_connection_tested(app: Flask) -> None:
    sync = _plugins(app)
    try:
        owner = admin(app, "acme")
        listing = visible_text(text(owner.get(f"{BASE}/connectors")))
        assert "Test connector (testconnector) not set up" in listing and "Sync test" in listing
        page = text(owner.get(f"{BASE}/connectors/testconnector"))
        assert 'id="f-base_url" name="base_url" type="url"' in page
        assert 'id="f-api_key" name="api_key" type="password"' in page
        assert 'hx-post="/t/acme/settings/integrations/connectors/testconnector/test"' in page

        # Bad input: an error beside each field, nothing stored.
        response = owner.post(f"{BASE}/connectors/testconnector", {"base_url": "nope", "account": ""})
        assert response.status_code == 422
        html = text(response)
        base_url = block(html, '<label for="f-base_url">', '<label for="f-account">')
        assert "Not a valid URL." in visible_text(base_url)
        assert "Missing data for required field." in visible_text(
            block(html, '<label for="f-account">', '<label for="f-api_key">'))
        api_key = block(html, '<label for="f-api_key">', "</form>")
        assert "Missing data for required field." in visible_text(api_key)
        assert 'value="nope"' in html
        assert Api(app, owner.tenant).get("/connectors/testconnector").get_json()["configured"] is False

        with receiver([200, 401]) as target:
            response = owner.post(f"{BASE}/connectors/testconnector", {
                "base_url": target.url, "account": "acme-1", "api_key": "sk_live_TOPSECRET"})
            assert response.status_code == 302, visible_text(text(response))
            page = text(owner.client.get(response.headers["Location"]))
            assert "Settings saved." in visible_text(page)
            assert "TOPSECRET" not in page and "saved — enter a new value to replace" in page
            assert f'value="{target.url}"' in page and 'value="acme-1"' in page

            # Saving again with the secret left empty keeps it.
            assert owner.post(f"{BASE}/connectors/testconnector", {
                "base_url": target.url, "account": "acme-2", "api_key": ""}).status_code == 302
            tested = owner.post(f"{BASE}/connectors/testconnector/test", htmx=True)
            assert tested.status_code == 200
            result = visible_text(text(tested))
            assert result.startswith("Connected.") and "connected as acme-2 (200)" in result
            assert "<html" not in text(tested)  # a fragment for htmx
            assert target.requests[0].headers["authorization"] == "Bearer sk_live_TOPSECRET"
            failed = visible_text(text(owner.post(f"{BASE}/connectors/testconnector/test")))
            assert "The test failed." in failed and "401" in failed

        # A sync job runs in the background with the saved (decrypted) settings.
        page = text(owner.get(f"{BASE}/connectors/synctest"))
        assert 'id="f-nightly" name="nightly" type="checkbox"' in page and "Account id" in page
        saved = owner.post(f"{BASE}/connectors/synctest", {"account": "a-9", "token": "tok"})
        assert saved.status_code == 302
        page = text(owner.get(f"{BASE}/connectors/synctest"))
        assert "Run pull_orders now" in visible_text(page)
        SYNCED.clear()
        response = owner.post(f"{BASE}/connectors/synctest/sync/pull_orders")
        assert response.status_code == 302
        assert "“pull_orders” queued" in visible_text(text(owner.client.get(response.headers["Location"])))
        drain(app)
        assert SYNCED == ["a-9:tok"]
        assert owner.post(f"{BASE}/connectors/synctest/sync/nosuch").status_code == 404
        assert owner.get(f"{BASE}/connectors/nosuch").status_code == 404
    finally:
        app.extensions["twofold.plugins"].unregister(sync)


# --- who may ----------------------------------------------------------------------------


def test_an_agent_is_refused_every_integrations_page(app: Flask) -> None:
    sync = _plugins(app)
    try:
        owner = admin(app, "acme")
        owner.post(f"{BASE}/webhooks", {"url": "http://127.0.0.1:9/hook"})
        owner.post(f"{BASE}/inbound", {"kind": "form", "entity_type": "person"})
        with app.app_context(), tenant_scope(owner.tenant.tenant_id):
            sub_id = db.session.scalars(db.select(WebhookSubscription.id)).one()
            endpoint_id = db.session.scalars(db.select(InboundEndpoint.id)).one()
        agent = member_browser(app, owner, "agent@acme.example.com", "agent")
        assert f"{BASE}/webhooks" not in text(agent.get("/"))  # not in the agent's menu
        for path in ("/webhooks", "/inbound", "/connectors", "/connectors/testconnector",
                     f"/webhooks/{sub_id}", f"/inbound/{endpoint_id}"):
            assert agent.get(f"{BASE}{path}").status_code == 403, path
        posts = {
            "/webhooks": {"url": "http://127.0.0.1:9/agent"},
            "/inbound": {"kind": "form", "entity_type": "person"},
            f"/webhooks/{sub_id}/disable": {}, f"/webhooks/{sub_id}/delete": {},
            f"/webhooks/{sub_id}/ping": {}, f"/inbound/{endpoint_id}/disable": {},
            "/connectors/synctest": {"account": "x", "token": "y"},
            "/connectors/testconnector/test": {}, "/connectors/synctest/sync/pull_orders": {},
        }
        for path, data in posts.items():
            assert agent.post(f"{BASE}{path}", data).status_code == 403, path
        assert count(app, owner, WebhookSubscription) == 1 and count(app, owner, InboundEndpoint) == 1
        api = Api(app, owner.tenant)
        assert api.get(f"/webhooks/{sub_id}").get_json()["enabled"] is True
        assert api.get(f"/inbound/{endpoint_id}").get_json()["enabled"] is True
        assert api.get("/connectors/synctest").get_json()["configured"] is False
        # A manager is refused too: integrations are for admins and owners.
        manager = member_browser(app, owner, "manager@acme.example.com", "manager")
        assert manager.get(f"{BASE}/webhooks").status_code == 403
    finally:
        app.extensions["twofold.plugins"].unregister(sync)
