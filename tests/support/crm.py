"""Tenants with the test CRM pack enabled, for the engine's tests."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.plugins import crm_fixture
from tests.support.factories import TenantHandle, signup


def ensure_plugin(app: Flask) -> None:
    plugins = app.extensions["twofold.plugins"]
    if plugins.manager.get_plugin(crm_fixture.NAME) is None:
        plugins.register(crm_fixture, name=crm_fixture.NAME)


def crm_tenant(app: Flask, slug: str) -> TenantHandle:
    ensure_plugin(app)
    tenant = signup(app, slug)
    response = app.test_client().post(f"/api/v1/packs/{crm_fixture.NAME}/enable", headers=tenant.api())
    assert response.status_code == 200, response.get_json()
    return tenant


class Api:
    """A thin JSON client bound to one tenant's token."""

    def __init__(self, app: Flask, tenant: TenantHandle) -> None:
        self.client: FlaskClient = app.test_client()
        self.headers = tenant.api()

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(f"/api/v1{path}", headers=self.headers, json=json, **kwargs)

    def patch(self, path: str, json=None):
        return self.client.patch(f"/api/v1{path}", headers=self.headers, json=json)

    def delete(self, path: str):
        return self.client.delete(f"/api/v1{path}", headers=self.headers)

    def create(self, type_name: str, **values) -> dict:
        response = self.post(f"/records/{type_name}", json=values)
        assert response.status_code == 201, response.get_json()
        return response.get_json()
