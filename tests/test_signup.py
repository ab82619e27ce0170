"""Signup on the web and the API: the tenant and its owner at once, or nothing at all."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.support.factories import PASSWORD, csrf_token
from tests.support.factories import signup as api_signup
from twofold.auth.models import ApiToken, Membership, SecurityEvent, User
from twofold.db import db
from twofold.sdk import hookimpl
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import unscoped


def row_counts(app) -> dict[str, int]:
    with app.app_context(), unscoped("the test counts the rows of every tenant"):
        counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Tenant, User, Membership, ApiToken, SecurityEvent)
        }
        db.session.remove()
        return counts


def field_errors(page: str, name: str) -> list[str]:
    """The error messages rendered inside the form field that holds input ``name``."""
    for block in re.findall(r'<div class="field[^"]*">(.*?)</div>', page, re.S):
        if f'name="{name}"' in block:
            messages = re.findall(r'<p class="error"[^>]*>(.*?)</p>', block, re.S)
            return [html.unescape(m).strip() for m in messages]
    raise AssertionError(f"no field {name!r} on the page")


def web_signup(client, **overrides: str):
    data = {
        "company_name": "Acme Ltd",
        "slug": "acme",
        "email": "owner@acme.example.com",
        "password": PASSWORD,
        "csrf_token": csrf_token(client, "/signup"),
    }
    data.update(overrides)
    return client.post("/signup", data=data)


def api_body(**overrides: str) -> dict[str, str]:
    body = {"company_name": "Acme Ltd", "slug": "acme", "email": "owner@acme.example.com",
            "password": PASSWORD}
    body.update(overrides)
    return body


# --- happy paths --------------------------------------------------------------------------


def test_web_signup_creates_the_company_and_signs_the_owner_in(app):
    client = app.test_client()
    response = web_signup(client, email="Owner@Acme.Example.COM")
    assert response.status_code == 302
    assert response.headers["Location"] == "/t/acme/"

    home = client.get("/t/acme/")
    page = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "Acme Ltd" in page
    assert "Your company is ready" in page
    assert "<strong>owner</strong>" in page

    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
        user = db.session.scalar(select(User).where(User.email == "owner@acme.example.com"))
        assert tenant is not None and tenant.name == "Acme Ltd"
        assert user is not None, "the email is stored normalised (lower case)"
        with unscoped("check the membership of the new tenant"):
            membership = db.session.scalar(select(Membership).where(Membership.tenant_id == tenant.id))
        assert membership.user_id == user.id
        assert membership.role == "owner"


def test_api_signup_answers_201_with_the_slug_and_a_working_token(app):
    client = app.test_client()
    response = client.post("/api/v1/signup", json=api_body())
    assert response.status_code == 201
    body = response.get_json()
    assert body["tenant"]["slug"] == "acme"
    assert body["tenant"]["name"] == "Acme Ltd"
    assert body["user"]["email"] == "owner@acme.example.com"
    assert body["api_token"].startswith("tf_")

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['api_token']}"})
    assert me.status_code == 200
    assert me.get_json()["tenant"]["slug"] == "acme"
    assert me.get_json()["role"] == "owner"
    assert me.get_json()["user_id"] == body["user"]["id"]

    # The owner can sign in on the web with the password given at signup.
    token = csrf_token(client)
    login = client.post("/login", data={"email": "owner@acme.example.com", "password": PASSWORD,
                                        "csrf_token": token})
    assert login.status_code == 302
    assert client.get("/t/acme/").status_code == 200


def test_an_existing_account_adds_a_second_company_with_its_password(app):
    first = api_signup(app, "acme", email="founder@example.com")
    client = app.test_client()
    response = client.post(
        "/api/v1/signup",
        json=api_body(slug="globex", company_name="Globex", email="founder@example.com"),
    )
    assert response.status_code == 201
    assert response.get_json()["user"]["id"] == str(first.user_id)
    assert row_counts(app)["users"] == 1
    assert row_counts(app)["tenants"] == 2


def test_an_existing_account_with_a_wrong_password_gets_an_email_error(app):
    api_signup(app, "acme", email="founder@example.com")
    before = row_counts(app)
    response = app.test_client().post(
        "/api/v1/signup",
        json=api_body(slug="globex", email="founder@example.com", password="not the right password"),
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["email"]
    assert row_counts(app) == before


# --- field-level errors -------------------------------------------------------------------

BAD_INPUT = [
    pytest.param("slug", {"slug": "Bad Slug!"}, "lowercase letters", id="bad-slug"),
    pytest.param("slug", {"slug": "ab"}, "3–63", id="short-slug"),
    pytest.param("slug", {"slug": "admin"}, "reserved", id="reserved-slug"),
    pytest.param("email", {"email": "not-an-email"}, "", id="bad-email"),
    pytest.param("password", {"password": "short"}, "at least 10 characters", id="short-password"),
    pytest.param("company_name", {"company_name": "A"}, "", id="short-company-name"),
]


@pytest.mark.parametrize(("field", "overrides", "fragment"), BAD_INPUT)
def test_api_signup_bad_field_is_a_422_naming_the_field(app, field, overrides, fragment):
    before = row_counts(app)
    response = app.test_client().post("/api/v1/signup", json=api_body(**overrides))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == [field]
    assert errors[field] and all(isinstance(m, str) and m for m in errors[field])
    assert fragment in " ".join(errors[field])
    assert row_counts(app) == before


@pytest.mark.parametrize(("field", "overrides", "fragment"), BAD_INPUT)
def test_web_signup_bad_field_shows_the_message_next_to_the_field(app, field, overrides, fragment):
    before = row_counts(app)
    response = web_signup(app.test_client(), **overrides)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    messages = field_errors(page, field)
    assert messages and fragment in " ".join(messages)
    assert f'aria-describedby="e-{field}"' in page
    for other in {"company_name", "slug", "email", "password"} - {field}:
        assert field_errors(page, other) == []
    # What the user typed is kept, except the password.
    if field != "company_name":
        assert 'value="Acme Ltd"' in page
    assert PASSWORD not in page
    assert row_counts(app) == before


def test_taken_slug_is_a_field_error_on_the_api_and_nothing_is_created(app):
    api_signup(app, "acme")
    before = row_counts(app)
    response = app.test_client().post(
        "/api/v1/signup", json=api_body(email="someone-else@example.com", company_name="Other Acme")
    )
    assert response.status_code == 422
    assert response.get_json() == {"errors": {"slug": ["This address is taken."]}}
    assert row_counts(app) == before


def test_taken_slug_is_shown_next_to_the_slug_field_and_nothing_is_created(app):
    api_signup(app, "acme")
    before = row_counts(app)
    response = web_signup(app.test_client(), email="someone-else@example.com", company_name="Other Acme")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "slug") == ["This address is taken."]
    assert field_errors(page, "email") == []
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "someone-else@example.com")) is None


def test_api_signup_with_missing_and_unknown_fields_lists_each_one(app):
    response = app.test_client().post("/api/v1/signup", json={"slug": "acme", "plan": "gold"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"company_name", "email", "password", "plan"}
    assert row_counts(app)["tenants"] == 0


def test_api_signup_with_a_body_that_is_not_json_is_a_422(app):
    response = app.test_client().post("/api/v1/signup", data="slug=acme",
                                      content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert "errors" in response.get_json()
    assert row_counts(app)["tenants"] == 0


# --- atomicity ----------------------------------------------------------------------------


class ExplodingPlugin:
    """A pack whose tenant-created hook writes a row and then fails."""

    calls = 0

    @hookimpl
    def twofold_tenant_created(self, tenant_id):
        type(self).calls += 1
        db.session.add(SecurityEvent(kind="plugin.seeded", detail={"tenant": str(tenant_id)}))
        db.session.flush()
        raise RuntimeError("the pack could not seed its defaults")


@pytest.fixture
def exploding_plugin(app):
    plugin = ExplodingPlugin()
    ExplodingPlugin.calls = 0
    manager = app.extensions["twofold.plugins"]
    manager.register(plugin, name="exploding-test-plugin")
    try:
        yield plugin
    finally:
        manager.unregister(plugin)


def test_a_failing_plugin_undoes_the_api_signup(app, exploding_plugin):
    before = row_counts(app)
    response = app.test_client().post("/api/v1/signup", json=api_body())
    assert ExplodingPlugin.calls == 1, "the hook ran inside the signup"
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "plugin_failed"
    assert response.get_json()["error"]["plugin"] == "exploding-test-plugin"
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(Tenant).where(Tenant.slug == "acme")) is None
        assert db.session.scalar(select(User).where(User.email == "owner@acme.example.com")) is None


def test_a_failing_plugin_undoes_the_web_signup(app, exploding_plugin):
    before = row_counts(app)
    client = app.test_client()
    response = web_signup(client)
    assert ExplodingPlugin.calls == 1
    assert response.status_code == 500
    assert row_counts(app) == before
    # Nobody is signed in and the address is still free once the plugin is gone.
    assert client.get("/t/acme/").status_code == 302


def test_the_slug_is_free_again_after_a_failed_signup(app, exploding_plugin):
    client = app.test_client()
    assert client.post("/api/v1/signup", json=api_body()).status_code == 500
    app.extensions["twofold.plugins"].unregister(exploding_plugin)
    try:
        response = client.post("/api/v1/signup", json=api_body())
        assert response.status_code == 201
        assert row_counts(app)["tenants"] == 1
        assert row_counts(app)["users"] == 1
    finally:
        app.extensions["twofold.plugins"].register(exploding_plugin, name="exploding-test-plugin")
