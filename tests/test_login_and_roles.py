"""Signing in and out, password hashing, roles checked in the services, the security log."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.support.factories import PASSWORD, csrf_token, invite_and_join, login, signup
from twofold.auth.models import User
from twofold.db import db


def field_errors(page: str, name: str) -> list[str]:
    """The error messages rendered inside the form field that holds input ``name``."""
    for block in re.findall(r'<div class="field[^"]*">(.*?)</div>', page, re.S):
        if f'name="{name}"' in block:
            messages = re.findall(r'<p class="error"[^>]*>(.*?)</p>', block, re.S)
            return [html.unescape(m).strip() for m in messages]
    raise AssertionError(f"no field {name!r} on the page")


def member_ids(client, owner) -> dict[str, tuple[str, str]]:
    """email -> (membership id, role), read through the API as the owner."""
    response = client.get("/api/v1/members", headers=owner.api())
    assert response.status_code == 200
    return {m["email"]: (m["id"], m["role"]) for m in response.get_json()["members"]}


def web_token(client, slug: str, name: str) -> str:
    """Create an API token on the settings page and read it from the page, as a user does."""
    page = client.post(
        f"/t/{slug}/settings/tokens", data={"name": name, "csrf_token": csrf_token(client, f"/t/{slug}/")}
    )
    assert page.status_code == 200
    match = re.search(r'id="new-token">([^<]+)<', page.get_data(as_text=True))
    assert match, "the new token is not on the page"
    return match.group(1)


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def team(app):
    """A company with an owner, an admin and an agent (each with their own login)."""
    owner = signup(app, "acme")
    admin_id = invite_and_join(app, owner, "admin@acme.example.com", "admin")
    agent_id = invite_and_join(app, owner, "agent@acme.example.com", "agent")
    return owner, admin_id, agent_id


# --- signing in and out -------------------------------------------------------------------


def test_sign_in_and_sign_out(app):
    acme = signup(app, "acme")
    client = app.test_client()
    assert client.get("/t/acme/").status_code == 302  # not signed in yet

    token = csrf_token(client)
    response = client.post("/login", data={"email": acme.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/t/acme/"
    page = client.get("/t/acme/").get_data(as_text=True)
    assert acme.email in page and "Sign out" in page

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/t/acme/")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    after = client.get("/t/acme/")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("email", ["owner@acme.example.com", "nobody@acme.example.com"])
def test_wrong_password_or_unknown_email_is_401_with_the_same_message(app, email):
    signup(app, "acme")
    client = app.test_client()
    response = client.post(
        "/login", data={"email": email, "password": "wrong password!", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert field_errors(page, "password") == ["Wrong email or password."]
    assert f'value="{email}"' in page  # the email is kept for the next try
    assert client.get("/t/acme/").status_code == 302  # still signed out


def test_email_is_matched_case_insensitively(app):
    signup(app, "acme")
    client = app.test_client()
    login(client, "  OWNER@Acme.Example.com ")
    assert client.get("/t/acme/").status_code == 200


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/t/acme/settings/tokens", "/t/acme/settings/tokens"),
        ("/t/acme/?tab=a%2Fb", "/t/acme/?tab=a%2Fb"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("/\\evil.example/phish", "/"),
        ("\\\\evil.example/phish", "/"),
        ("/\t/evil.example/phish", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example", "/"),
        ("t/acme/", "/"),
    ],
)
def test_next_redirects_only_to_same_site_paths(app, target, expected):
    signup(app, "acme")
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "owner@acme.example.com", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_a_page_that_needs_sign_in_comes_back_after_it(app):
    signup(app, "acme")
    client = app.test_client()
    first = client.get("/t/acme/settings/tokens")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    page = client.get(login_url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(login_url, data={"email": "owner@acme.example.com", "password": PASSWORD,
                                            "csrf_token": token})
    assert response.headers["Location"] == "/t/acme/settings/tokens"
    assert client.get(response.headers["Location"]).status_code == 200


def test_stored_password_hash_is_argon2id_with_owasp_cost(app):
    acme = signup(app, "acme")
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.id == acme.user_id))
    assert PASSWORD not in stored
    match = re.fullmatch(r"\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", stored)
    assert match, stored
    version, memory_kib, time_cost, parallelism = map(int, match.groups())
    assert version == 19
    assert memory_kib >= 19456
    assert time_cost >= 2
    assert parallelism >= 1


# --- roles ---------------------------------------------------------------------------------


def test_agent_cannot_invite_or_change_roles_through_the_api(app, team):
    owner, _admin_id, _agent_id = team
    agent_client = app.test_client()
    login(agent_client, "agent@acme.example.com")
    agent_token = web_token(agent_client, "acme", "agent script")
    client = app.test_client()
    admin_membership, _role = member_ids(client, owner)["admin@acme.example.com"]

    invite = client.post("/api/v1/invitations", json={"email": "x@example.com", "role": "agent"},
                         headers=bearer(agent_token))
    assert invite.status_code == 403
    assert invite.get_json()["error"]["code"] == "forbidden"

    demote = client.patch(f"/api/v1/members/{admin_membership}", json={"role": "agent"},
                          headers=bearer(agent_token))
    assert demote.status_code == 403
    assert demote.get_json()["error"]["code"] == "forbidden"

    assert client.get("/api/v1/members", headers=bearer(agent_token)).status_code == 403
    assert member_ids(client, owner)["admin@acme.example.com"][1] == "admin"
    assert "x@example.com" not in member_ids(client, owner)


def test_agent_cannot_invite_or_change_roles_on_the_web(app, team, smtp_server):
    owner, _admin_id, _agent_id = team
    admin_membership, _role = member_ids(app.test_client(), owner)["admin@acme.example.com"]
    agent = app.test_client()
    login(agent, "agent@acme.example.com")
    token = csrf_token(agent, "/t/acme/")
    page = agent.get("/t/acme/")
    assert 'href="/t/acme/settings/members"' not in page.get_data(as_text=True)

    assert agent.get("/t/acme/settings/members").status_code == 403
    invite = agent.post("/t/acme/settings/members/invite",
                        data={"email": "x@example.com", "role": "agent", "csrf_token": token})
    assert invite.status_code == 403
    assert "Not allowed" in invite.get_data(as_text=True)
    change = agent.post(f"/t/acme/settings/members/{admin_membership}/role",
                        data={"role": "agent", "csrf_token": token})
    assert change.status_code == 403
    assert member_ids(app.test_client(), owner)["admin@acme.example.com"][1] == "admin"


def test_admin_can_invite_and_change_roles_but_not_make_owners(app, team):
    owner, _admin_id, _agent_id = team
    admin = app.test_client()
    login(admin, "admin@acme.example.com")
    admin_token = web_token(admin, "acme", "admin script")
    client = app.test_client()
    agent_membership, _role = member_ids(client, owner)["agent@acme.example.com"]

    invite = client.post("/api/v1/invitations", json={"email": "new@example.com", "role": "manager"},
                         headers=bearer(admin_token))
    assert invite.status_code == 201
    assert invite.get_json()["role"] == "manager"

    promote = client.patch(f"/api/v1/members/{agent_membership}", json={"role": "manager"},
                           headers=bearer(admin_token))
    assert promote.status_code == 200
    assert promote.get_json()["role"] == "manager"
    assert member_ids(client, owner)["agent@acme.example.com"][1] == "manager"

    # On the web too: back to agent through the members page.
    token = csrf_token(admin, "/t/acme/settings/members")
    response = admin.post(f"/t/acme/settings/members/{agent_membership}/role",
                          data={"role": "agent", "csrf_token": token})
    assert response.status_code == 302
    assert "Role changed." in admin.get("/t/acme/settings/members").get_data(as_text=True)
    assert member_ids(client, owner)["agent@acme.example.com"][1] == "agent"

    # Only an owner makes owners.
    to_owner = client.patch(f"/api/v1/members/{agent_membership}", json={"role": "owner"},
                            headers=bearer(admin_token))
    assert to_owner.status_code == 403
    owner_invite = client.post("/api/v1/invitations", json={"email": "boss@example.com", "role": "owner"},
                               headers=bearer(admin_token))
    assert owner_invite.status_code == 403
    assert member_ids(client, owner)["agent@acme.example.com"][1] == "agent"


def test_bad_role_is_a_field_error(app, team):
    owner, _admin_id, _agent_id = team
    client = app.test_client()
    agent_membership, _role = member_ids(client, owner)["agent@acme.example.com"]
    response = client.patch(f"/api/v1/members/{agent_membership}", json={"role": "emperor"},
                            headers=owner.api())
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["role"]


def test_the_last_owner_cannot_be_demoted(app, team):
    owner, _admin_id, _agent_id = team
    client = app.test_client()
    owner_membership, _role = member_ids(client, owner)[owner.email]

    response = client.patch(f"/api/v1/members/{owner_membership}", json={"role": "admin"},
                            headers=owner.api())
    assert response.status_code == 422
    assert response.get_json()["errors"]["role"] == ["A company needs at least one owner."]
    assert client.delete(f"/api/v1/members/{owner_membership}", headers=owner.api()).status_code == 422
    assert member_ids(client, owner)[owner.email][1] == "owner"

    # With a second owner, the first may step down.
    admin_membership, _role = member_ids(client, owner)["admin@acme.example.com"]
    promote = client.patch(f"/api/v1/members/{admin_membership}", json={"role": "owner"}, headers=owner.api())
    assert promote.status_code == 200
    step_down = client.patch(f"/api/v1/members/{owner_membership}", json={"role": "admin"},
                             headers=owner.api())
    assert step_down.status_code == 200
    roles = {email: role for email, (_id, role) in member_ids(client, owner).items()}
    assert roles[owner.email] == "admin"
    assert roles["admin@acme.example.com"] == "owner"


# --- the security log ---------------------------------------------------------------------


def security_events(client, owner) -> list[dict]:
    response = client.get("/api/v1/security-events", headers=owner.api())
    assert response.status_code == 200
    return response.get_json()["events"]


def test_security_log_records_sign_ins_tokens_and_roles(app, team):
    owner, admin_id, agent_id = team
    globex = signup(app, "globex")
    client = app.test_client()

    web = app.test_client()
    bad = web.post("/login", data={"email": owner.email, "password": "not my password",
                                   "csrf_token": csrf_token(web)})
    assert bad.status_code == 401
    login(web, owner.email)

    created = client.post("/api/v1/tokens", json={"name": "ERP sync"}, headers=owner.api())
    assert created.status_code == 201
    token_id = created.get_json()["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=owner.api()).status_code == 200
    agent_membership, _role = member_ids(client, owner)["agent@acme.example.com"]
    assert client.patch(f"/api/v1/members/{agent_membership}", json={"role": "manager"},
                        headers=owner.api()).status_code == 200

    events = security_events(client, owner)
    by_kind: dict[str, list[dict]] = {}
    for event in events:
        by_kind.setdefault(event["kind"], []).append(event)
    for kind in ("login", "login.failed", "token.created", "token.revoked", "role.changed"):
        assert kind in by_kind, f"no {kind} event in {sorted(by_kind)}"

    assert by_kind["login"][0]["user_id"] == str(owner.user_id)
    assert by_kind["login"][0]["ip"] == "127.0.0.1"
    assert by_kind["login.failed"][0]["user_id"] == str(owner.user_id)
    assert any(e["detail"]["token_id"] == token_id and e["detail"]["token"] == "ERP sync"
               for e in by_kind["token.created"])
    assert [e["detail"]["token_id"] for e in by_kind["token.revoked"]] == [token_id]
    role_change = by_kind["role.changed"][0]
    assert role_change["user_id"] == str(owner.user_id)
    assert role_change["detail"] == {"member": str(agent_id), "old": "agent", "new": "manager"}
    assert events == sorted(events, key=lambda e: e["at"], reverse=True)

    # The log is per tenant: the other company sees none of it.
    other = {e["kind"] for e in security_events(client, globex)}
    assert other <= {"tenant.created", "token.created"}

    # The web page shows the same log to an owner or admin, and not to an agent.
    page = web.get("/t/acme/settings/security").get_data(as_text=True)
    for kind in ("login.failed", "token.revoked", "role.changed"):
        assert f"<td>{kind}</td>" in page
    agent = app.test_client()
    login(agent, "agent@acme.example.com")
    assert agent.get("/t/acme/settings/security").status_code == 403
    assert admin_id  # the admin is part of the team but has no events of their own here


# --- password change --------------------------------------------------------------------------


def test_a_password_change_ends_the_other_sessions(app):
    acme = signup(app, "acme")
    this_browser, other_browser, remembered = app.test_client(), app.test_client(), app.test_client()
    login(this_browser, acme.email)
    login(other_browser, acme.email)
    response = remembered.post("/login", data={"email": acme.email, "password": PASSWORD, "remember": "1",
                                               "csrf_token": csrf_token(remembered)})
    assert response.status_code == 302
    remember_cookie = remembered.get_cookie("remember_token")
    assert remember_cookie is not None

    def from_remember_cookie():
        fresh = app.test_client()
        fresh.set_cookie("remember_token", remember_cookie.value)
        return fresh.get("/t/acme/")

    assert other_browser.get("/t/acme/").status_code == 200
    assert from_remember_cookie().status_code == 200

    wrong = this_browser.post("/account", data={"current_password": "not my password",
                                                "new_password": "a brand new passphrase",
                                                "csrf_token": csrf_token(this_browser, "/account")})
    assert wrong.status_code == 422
    assert field_errors(wrong.get_data(as_text=True), "current_password") == [
        "This is not your current password."
    ]
    assert other_browser.get("/t/acme/").status_code == 200

    changed = this_browser.post("/account", data={"current_password": PASSWORD,
                                                  "new_password": "a brand new passphrase",
                                                  "csrf_token": csrf_token(this_browser, "/account")})
    assert changed.status_code == 302
    assert this_browser.get("/t/acme/").status_code == 200  # the session that changed it stays
    assert other_browser.get("/t/acme/").status_code == 302
    assert from_remember_cookie().status_code == 302

    old = app.test_client()
    bad = old.post("/login", data={"email": acme.email, "password": PASSWORD, "csrf_token": csrf_token(old)})
    assert bad.status_code == 401
    login(app.test_client(), acme.email, "a brand new passphrase")

    kinds = {e["kind"] for e in security_events(app.test_client(), acme)}
    assert {"password.change_failed", "password.changed"} <= kinds


def test_a_new_password_must_be_long_enough(app):
    acme = signup(app, "acme")
    client = app.test_client()
    login(client, acme.email)
    response = client.post("/account", data={"current_password": PASSWORD, "new_password": "short",
                                             "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "new_password") == ["Use at least 10 characters."]
    login(app.test_client(), acme.email)  # the old password still works
