"""Connectors: settings validated by the plugin's schema, secrets encrypted and never shown."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from tests.plugins import connector_fixture
from tests.support.crm import Api, crm_tenant
from tests.support.receiver import receiver
from twofold.db import db


def _plugin(app: Flask) -> None:
    plugins = app.extensions["twofold.plugins"]
    if plugins.manager.get_plugin(connector_fixture.NAME) is None:
        plugins.register(connector_fixture, name=connector_fixture.NAME)


def test_secrets_are_encrypted_and_never_returned(app: Flask) -> None:
    _plugin(app)
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    names = [c["name"] for c in api.get("/connectors").get_json()["data"]]
    assert connector_fixture.NAME in names
    with receiver([200, 401]) as target:
        saved = api.client.put(
            f"/api/v1/connectors/{connector_fixture.NAME}", headers=api.headers,
            json={"base_url": target.url, "account": "acme-1", "api_key": "sk_live_TOPSECRET"},
        )
        assert saved.status_code == 200, saved.get_json()
        assert "sk_live_TOPSECRET" not in saved.get_data(as_text=True)
        assert saved.get_json()["secrets"]["api_key"] == {"set": True, "value": "••••"}
        shown = api.get(f"/connectors/{connector_fixture.NAME}")
        assert "TOPSECRET" not in shown.get_data(as_text=True)
        assert shown.get_json()["settings"] == {"base_url": target.url, "account": "acme-1"}
        with app.app_context():
            raw = db.session.execute(text("SELECT settings, secrets FROM connector_settings")).one()
        assert "TOPSECRET" not in str(raw[0]) and "TOPSECRET" not in raw[1]
        # The test uses the decrypted key: the receiver sees it.
        tested = api.post(f"/connectors/{connector_fixture.NAME}/test").get_json()
        assert tested["ok"] is True and "acme-1" in tested["message"]
        assert target.requests[0].headers["authorization"] == "Bearer sk_live_TOPSECRET"
        # Saving again with the mask keeps the stored secret.
        again = api.client.put(f"/api/v1/connectors/{connector_fixture.NAME}", headers=api.headers,
                               json={"base_url": target.url, "account": "acme-2", "api_key": "••••"})
        assert again.status_code == 200
        failed = api.post(f"/connectors/{connector_fixture.NAME}/test").get_json()
        assert failed["ok"] is False and "401" in failed["message"]
        assert target.requests[1].headers["authorization"] == "Bearer sk_live_TOPSECRET"


def test_settings_are_validated_and_tenant_owned(app: Flask) -> None:
    _plugin(app)
    acme, other = crm_tenant(app, "acme"), crm_tenant(app, "other")
    api = Api(app, acme)
    bad = api.client.put(f"/api/v1/connectors/{connector_fixture.NAME}", headers=api.headers,
                         json={"base_url": "nope"})
    assert bad.status_code == 422
    assert {"base_url", "account", "api_key"} <= set(bad.get_json()["errors"])
    ok = api.client.put(f"/api/v1/connectors/{connector_fixture.NAME}", headers=api.headers,
                        json={"base_url": "http://127.0.0.1:9/", "account": "a", "api_key": "k"})
    assert ok.status_code == 200
    theirs = Api(app, other).get(f"/connectors/{connector_fixture.NAME}").get_json()
    assert theirs["configured"] is False and theirs["secrets"]["api_key"]["set"] is False
    assert api.get("/connectors/nosuch").status_code == 404
