"""CSRF: every form and every htmx request carries a token; the API authenticates instead."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.support.factories import PASSWORD, csrf_token, invite_and_join, login, signup
from twofold.auth.models import ApiToken, Membership
from twofold.db import db
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import unscoped

HTMX = {"HX-Request": "true"}


def count(app, model) -> int:
    with app.app_context(), unscoped("the test counts rows of every tenant"):
        total = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return total


def role_of(app, owner, email: str) -> str:
    members = app.test_client().get("/api/v1/members", headers=owner.api()).get_json()["members"]
    return next(m["role"] for m in members if m["email"] == email)


def membership_id(app, owner, email: str) -> str:
    members = app.test_client().get("/api/v1/members", headers=owner.api()).get_json()["members"]
    return next(m["id"] for m in members if m["email"] == email)


def test_every_form_on_the_pages_carries_a_token(app):
    signup(app, "acme")
    client = app.test_client()
    for path in ("/login", "/signup", "/password/forgot"):
        page = client.get(path).get_data(as_text=True)
        assert page.count("<form") == len(re.findall(r'name="csrf_token" value="[^"]+"', page)), path
    login(client, "owner@acme.example.com")
    for path in ("/t/acme/", "/t/acme/settings/members", "/t/acme/settings/tokens", "/account"):
        page = client.get(path).get_data(as_text=True)
        forms = page.count("<form")
        assert forms >= 1
        assert forms == len(re.findall(r'name="csrf_token" value="[^"]+"', page)), path
        # htmx requests send the token as a header, taken from the page's hx-headers.
        assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", page), path


def test_signup_form_without_a_token_is_400_and_creates_nothing(app):
    client = app.test_client()
    client.get("/signup")
    response = client.post("/signup", data={"company_name": "Acme", "slug": "acme",
                                            "email": "owner@acme.example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert count(app, Tenant) == 0

    response = client.post("/signup", data={"company_name": "Acme", "slug": "acme",
                                            "email": "owner@acme.example.com", "password": PASSWORD,
                                            "csrf_token": csrf_token(client, "/signup")})
    assert response.status_code == 302
    assert count(app, Tenant) == 1


def test_a_token_from_another_session_is_refused(app):
    signup(app, "acme")
    attacker = app.test_client()
    foreign_token = csrf_token(attacker, "/login")
    victim = app.test_client()
    login(victim, "owner@acme.example.com")
    response = victim.post("/t/acme/settings/tokens", data={"name": "evil", "csrf_token": foreign_token})
    assert response.status_code == 400
    assert count(app, ApiToken) == 1  # only the one from signup


def test_settings_form_without_a_token_is_400_and_changes_nothing(app):
    owner = signup(app, "acme")
    invite_and_join(app, owner, "agent@acme.example.com", "agent")
    client = app.test_client()
    login(client, owner.email)
    tokens_before = count(app, ApiToken)
    agent_membership = membership_id(app, owner, "agent@acme.example.com")

    assert client.post("/t/acme/settings/tokens", data={"name": "no csrf"}).status_code == 400
    assert client.post(f"/t/acme/settings/members/{agent_membership}/role",
                       data={"role": "admin"}).status_code == 400
    assert client.post("/t/acme/settings/members/invite",
                       data={"email": "x@example.com", "role": "agent"}).status_code == 400
    assert client.post(f"/t/acme/settings/members/{agent_membership}/remove").status_code == 400
    assert count(app, ApiToken) == tokens_before
    assert role_of(app, owner, "agent@acme.example.com") == "agent"
    assert count(app, Membership) == 2

    token = csrf_token(client, "/t/acme/settings/tokens")
    created = client.post("/t/acme/settings/tokens", data={"name": "with csrf", "csrf_token": token})
    assert created.status_code == 200
    assert count(app, ApiToken) == tokens_before + 1
    changed = client.post(f"/t/acme/settings/members/{agent_membership}/role",
                          data={"role": "admin", "csrf_token": token})
    assert changed.status_code == 302
    assert role_of(app, owner, "agent@acme.example.com") == "admin"


def test_logout_without_a_token_is_400_and_keeps_the_session(app):
    signup(app, "acme")
    client = app.test_client()
    login(client, "owner@acme.example.com")
    assert client.post("/logout").status_code == 400
    assert client.get("/t/acme/").status_code == 200


def test_login_form_without_a_token_is_400(app):
    signup(app, "acme")
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"email": "owner@acme.example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/t/acme/").status_code == 302


def test_htmx_request_with_the_header_works_and_without_it_is_400(app):
    owner = signup(app, "acme")
    invite_and_join(app, owner, "agent@acme.example.com", "agent")
    client = app.test_client()
    login(client, owner.email)
    page = client.get("/t/acme/settings/members").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    agent_membership = membership_id(app, owner, "agent@acme.example.com")
    url = f"/t/acme/settings/members/{agent_membership}/role"

    refused = client.post(url, data={"role": "manager"}, headers=HTMX)
    assert refused.status_code == 400
    assert role_of(app, owner, "agent@acme.example.com") == "agent"

    wrong = client.post(url, data={"role": "manager"}, headers={**HTMX, "X-CSRFToken": "not-a-token"})
    assert wrong.status_code == 400
    assert role_of(app, owner, "agent@acme.example.com") == "agent"

    accepted = client.post(url, data={"role": "manager"}, headers={**HTMX, "X-CSRFToken": header_token})
    assert accepted.status_code == 302
    assert role_of(app, owner, "agent@acme.example.com") == "manager"

    # An htmx DELETE-style action (revoke a token) goes the same way.
    token_id = app.test_client().get("/api/v1/tokens", headers=owner.api()).get_json()["tokens"][0]["id"]
    assert client.post(f"/t/acme/settings/tokens/{token_id}/revoke", headers=HTMX).status_code == 400
    assert app.test_client().get("/api/v1/me", headers=owner.api()).status_code == 200
    revoked = client.post(f"/t/acme/settings/tokens/{token_id}/revoke",
                          headers={**HTMX, "X-CSRFToken": header_token})
    assert revoked.status_code == 302
    assert app.test_client().get("/api/v1/me", headers=owner.api()).status_code == 401


def test_api_post_with_a_bearer_token_needs_no_csrf(app):
    owner = signup(app, "acme")
    client = app.test_client()
    response = client.post("/api/v1/tokens", json={"name": "CI"}, headers=owner.api())
    assert response.status_code == 201
    assert response.get_json()["token"].startswith("tf_")


def test_api_without_a_token_is_401_json_even_with_a_signed_in_session(app):
    owner = signup(app, "acme")
    client = app.test_client()
    assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 401
    body = client.get("/api/v1/me").get_json()
    assert body["error"]["code"] == "unauthorized"

    # A browser session is no API credential: the API is CSRF-exempt, so it must not
    # accept cookies, or any site could post to it as the signed-in user.
    login(client, owner.email)
    before = count(app, ApiToken)
    response = client.post("/api/v1/tokens", json={"name": "cookie"})
    assert response.status_code == 401
    assert response.is_json and response.get_json()["error"]["code"] == "unauthorized"
    assert count(app, ApiToken) == before

    for header in ("Bearer", "Bearer ", "Basic abc", "Bearer tf_nonsense", f"Token {owner.token}"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["error"]["code"] == "unauthorized"
