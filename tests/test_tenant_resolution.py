"""A tenant is found by its subdomain or by the /t/<slug>/ path prefix."""

from __future__ import annotations

from flask import Flask

from tests.support.factories import PASSWORD, login, signup
from twofold.app import create_app


def _with_base_domain(app: Flask) -> Flask:
    keys = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "TESTING")
    return create_app({**{k: app.config[k] for k in keys}, "BASE_DOMAIN": "crm.example.com"})


def _login_on(client, host: str, email: str) -> None:
    base = f"http://{host}"
    html = client.get("/login", base_url=base).get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, base_url=base
    )
    assert response.status_code == 302


def test_the_path_prefix_finds_the_tenant(app: Flask) -> None:
    acme = signup(app, "acme")
    client = app.test_client()
    login(client, acme.email)
    assert "Acme Company" in client.get("/t/acme/").get_data(as_text=True)
    assert client.get("/t/no-such-company/").status_code == 404


def test_a_subdomain_finds_the_tenant(app: Flask) -> None:
    acme = signup(app, "acme")
    hosted = _with_base_domain(app)
    client = hosted.test_client()
    host = "acme.crm.example.com"
    _login_on(client, host, acme.email)
    page = client.get("/", base_url=f"http://{host}")
    assert page.status_code == 200
    assert "Acme Company" in page.get_data(as_text=True)
    members = client.get("/settings/members", base_url=f"http://{host}")
    assert acme.email in members.get_data(as_text=True)


def test_a_subdomain_of_another_company_is_not_found_for_a_non_member(app: Flask) -> None:
    acme, _globex = signup(app, "acme"), signup(app, "globex")
    client = _with_base_domain(app).test_client()
    host = "globex.crm.example.com"
    _login_on(client, host, acme.email)
    assert client.get("/", base_url=f"http://{host}").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask) -> None:
    signup(app, "acme")
    response = app.test_client().get("/t/acme/settings/members")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
