"""API tokens: prefixed, random, shown once, stored as a SHA-256 hash, named, revocable."""

from __future__ import annotations

import hashlib
import re
import uuid

from sqlalchemy import select

from tests.support.factories import csrf_token, invite_and_join, login, signup
from twofold.auth.models import ApiToken
from twofold.db import db
from twofold.tenancy.scope import tenant_scope


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def stored_token(app, tenant_id: uuid.UUID, token_id: str) -> ApiToken:
    with app.app_context(), tenant_scope(tenant_id):
        token = db.session.get(ApiToken, (tenant_id, uuid.UUID(token_id)))
        assert token is not None
        db.session.expunge(token)
        return token


def all_hashes(app, tenant_id: uuid.UUID) -> list[str]:
    with app.app_context(), tenant_scope(tenant_id):
        return list(db.session.scalars(select(ApiToken.token_hash)))


def web_token(client, slug: str, name: str) -> tuple[str, str]:
    """Create a token on the settings page; returns (raw token, the page that showed it)."""
    page = client.post(
        f"/t/{slug}/settings/tokens",
        data={"name": name, "csrf_token": csrf_token(client, f"/t/{slug}/settings/tokens")},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    match = re.search(r'id="new-token">([^<]+)<', html)
    assert match, "the new token is not on the page"
    return match.group(1), html


def test_api_token_is_shown_once_and_stored_only_as_its_hash(app):
    acme = signup(app, "acme")
    client = app.test_client()
    response = client.post("/api/v1/tokens", json={"name": "ERP sync"}, headers=acme.api())
    assert response.status_code == 201
    body = response.get_json()
    raw = body["token"]
    assert raw.startswith("tf_")
    assert len(raw) > 40
    assert body["name"] == "ERP sync"
    assert body["last_used_at"] is None and body["revoked_at"] is None

    stored = stored_token(app, acme.tenant_id, body["id"])
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in all_hashes(app, acme.tenant_id)
    assert stored.name == "ERP sync"

    listing = client.get("/api/v1/tokens", headers=acme.api())
    assert listing.status_code == 200
    assert raw not in listing.get_data(as_text=True)
    names = {t["name"] for t in listing.get_json()["tokens"]}
    assert names == {"ERP sync", "Created at signup"}

    second = client.post("/api/v1/tokens", json={"name": "ERP sync"}, headers=acme.api()).get_json()
    assert second["token"] != raw, "each token is random"


def test_settings_page_shows_the_new_token_once(app):
    acme = signup(app, "acme")
    client = app.test_client()
    login(client, acme.email)
    raw, shown = web_token(client, "acme", "Zapier")
    assert re.fullmatch(r"tf_[0-9a-f]{32}_[A-Za-z0-9_-]{40,}", raw)
    assert "will not be shown again" in shown

    later = client.get("/t/acme/settings/tokens").get_data(as_text=True)
    assert raw not in later
    assert "Zapier" in later
    secret = raw.removeprefix("tf_").partition("_")[2]
    assert secret not in later
    assert f"tf_…_{secret[:6]}…" in later  # a hint to tell tokens apart, not the token

    with app.app_context(), tenant_scope(acme.tenant_id):
        stored = db.session.scalar(select(ApiToken).where(ApiToken.name == "Zapier"))
        assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()

    me = app.test_client().get("/api/v1/me", headers=bearer(raw))
    assert me.status_code == 200
    assert me.get_json()["user_id"] == str(acme.user_id)


def test_using_a_token_sets_last_used(app):
    acme = signup(app, "acme")
    client = app.test_client()
    created = client.post("/api/v1/tokens", json={"name": "reporting"}, headers=acme.api()).get_json()
    assert stored_token(app, acme.tenant_id, created["id"]).last_used_at is None

    assert client.get("/api/v1/me", headers=bearer(created["token"])).status_code == 200
    used = stored_token(app, acme.tenant_id, created["id"])
    assert used.last_used_at is not None
    assert used.last_used_at >= used.created_at

    listed = client.get("/api/v1/tokens", headers=acme.api()).get_json()["tokens"]
    entry = next(t for t in listed if t["id"] == created["id"])
    assert entry["last_used_at"] is not None

    login_client = app.test_client()
    login(login_client, acme.email)
    page = login_client.get("/t/acme/settings/tokens").get_data(as_text=True)
    row = re.search(r"<td>reporting</td>(.*?)</tr>", page, re.S).group(1)
    assert "never" not in row


def test_revoked_token_fails_on_the_next_request(app):
    acme = signup(app, "acme")
    client = app.test_client()
    created = client.post("/api/v1/tokens", json={"name": "old script"}, headers=acme.api()).get_json()
    raw = created["token"]
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200

    revoked = client.delete(f"/api/v1/tokens/{created['id']}", headers=acme.api())
    assert revoked.status_code == 200
    assert revoked.get_json()["revoked_at"] is not None

    after = client.get("/api/v1/me", headers=bearer(raw))
    assert after.status_code == 401
    assert after.get_json()["error"]["code"] == "unauthorized"
    # The other tokens go on working.
    assert client.get("/api/v1/me", headers=acme.api()).status_code == 200


def test_a_token_can_revoke_itself(app):
    acme = signup(app, "acme")
    client = app.test_client()
    me = client.get("/api/v1/tokens", headers=acme.api()).get_json()["tokens"][0]
    assert client.delete(f"/api/v1/tokens/{me['id']}", headers=acme.api()).status_code == 200
    assert client.get("/api/v1/tokens", headers=acme.api()).status_code == 401


def test_revoke_on_the_settings_page(app):
    acme = signup(app, "acme")
    client = app.test_client()
    login(client, acme.email)
    raw, _page = web_token(client, "acme", "Zapier")
    token_id = next(t["id"] for t in client.get("/api/v1/tokens", headers=acme.api()).get_json()["tokens"]
                    if t["name"] == "Zapier")
    response = client.post(f"/t/acme/settings/tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_token(client, "/t/acme/settings/tokens")})
    assert response.status_code == 302
    assert "Token revoked." in client.get("/t/acme/settings/tokens").get_data(as_text=True)
    assert app.test_client().get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_agent_cannot_see_or_revoke_another_members_token_but_an_admin_can(app):
    acme = signup(app, "acme")
    invite_and_join(app, acme, "agent@acme.example.com", "agent")
    invite_and_join(app, acme, "admin@acme.example.com", "admin")
    client = app.test_client()
    owner_token = client.post("/api/v1/tokens", json={"name": "owner's ERP"}, headers=acme.api()).get_json()
    owner_token_id = owner_token["id"]

    agent = app.test_client()
    login(agent, "agent@acme.example.com")
    agent_raw, _page = web_token(agent, "acme", "agent's script")

    # The agent sees only their own tokens, on the API and on the page.
    listed = client.get("/api/v1/tokens", headers=bearer(agent_raw)).get_json()["tokens"]
    assert [t["name"] for t in listed] == ["agent's script"]
    page = agent.get("/t/acme/settings/tokens").get_data(as_text=True)
    assert "owner&#39;s ERP" not in page and "owner's ERP" not in page

    # Revoking someone else's token looks exactly like a token that does not exist.
    api_revoke = client.delete(f"/api/v1/tokens/{owner_token_id}", headers=bearer(agent_raw))
    assert api_revoke.status_code == 404
    assert api_revoke.get_json()["error"]["code"] == "not_found"
    missing = client.delete(f"/api/v1/tokens/{uuid.uuid4()}", headers=bearer(agent_raw))
    assert missing.status_code == 404
    web_revoke = agent.post(f"/t/acme/settings/tokens/{owner_token_id}/revoke",
                            data={"csrf_token": csrf_token(agent, "/t/acme/settings/tokens")})
    assert web_revoke.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(owner_token["token"])).status_code == 200

    # An admin sees everyone's tokens and may revoke them.
    admin = app.test_client()
    login(admin, "admin@acme.example.com")
    admin_raw, _page = web_token(admin, "acme", "admin's tool")
    names = {t["name"] for t in client.get("/api/v1/tokens", headers=bearer(admin_raw)).get_json()["tokens"]}
    assert {"owner's ERP", "agent's script", "admin's tool"} <= names
    assert "agent&#39;s script" in admin.get("/t/acme/settings/tokens").get_data(as_text=True)
    assert client.delete(f"/api/v1/tokens/{owner_token_id}", headers=bearer(admin_raw)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(owner_token["token"])).status_code == 401
    agent_token_id = next(t["id"] for t in listed)
    revoke_page = admin.post(f"/t/acme/settings/tokens/{agent_token_id}/revoke",
                             data={"csrf_token": csrf_token(admin, "/t/acme/settings/tokens")})
    assert revoke_page.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(agent_raw)).status_code == 401


def test_a_token_works_only_for_its_own_tenant(app):
    acme = signup(app, "acme")
    globex = signup(app, "globex")
    client = app.test_client()
    acme_token = client.get("/api/v1/tokens", headers=acme.api()).get_json()["tokens"][0]
    # Globex's owner cannot revoke Acme's token even knowing its id.
    assert client.delete(f"/api/v1/tokens/{acme_token['id']}", headers=globex.api()).status_code == 404
    assert client.get("/api/v1/me", headers=acme.api()).get_json()["tenant"]["slug"] == "acme"
    # A token with its tenant part swapped for another tenant's id is refused.
    secret = acme.token.removeprefix("tf_").partition("_")[2]
    forged = f"tf_{globex.tenant_id.hex}_{secret}"
    assert client.get("/api/v1/me", headers=bearer(forged)).status_code == 401


def test_a_member_who_leaves_loses_their_tokens(app):
    acme = signup(app, "acme")
    invite_and_join(app, acme, "agent@acme.example.com", "agent")
    agent = app.test_client()
    login(agent, "agent@acme.example.com")
    agent_raw, _page = web_token(agent, "acme", "agent's script")
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer(agent_raw)).status_code == 200
    membership = next(m for m in client.get("/api/v1/members", headers=acme.api()).get_json()["members"]
                      if m["email"] == "agent@acme.example.com")
    assert client.delete(f"/api/v1/members/{membership['id']}", headers=acme.api()).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(agent_raw)).status_code == 401
