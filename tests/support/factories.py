"""Building tenants and signing in the way a user does: through the public routes."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class TenantHandle:
    slug: str
    name: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    password: str
    token: str

    def api(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def signup(app: Flask, slug: str, *, email: str | None = None, name: str | None = None) -> TenantHandle:
    client = app.test_client()
    name = name or f"{slug.title()} Company"
    email = email or f"owner@{slug}.example.com"
    response = client.post(
        "/api/v1/signup",
        json={"company_name": name, "slug": slug, "email": email, "password": PASSWORD},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return TenantHandle(
        slug=slug, name=name, tenant_id=uuid.UUID(body["tenant"]["id"]),
        user_id=uuid.UUID(body["user"]["id"]), email=email, password=PASSWORD,
        token=body["api_token"],
    )


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def invite_and_join(app: Flask, owner: TenantHandle, email: str, role: str) -> uuid.UUID:
    """Invite ``email`` into ``owner``'s tenant with ``role`` and accept; returns the user id."""
    from twofold.auth.models import Invitation, Membership, User
    from twofold.auth.service import accept_invitation
    from twofold.db import db
    from twofold.tenancy.scope import tenant_scope

    client = app.test_client()
    response = client.post("/api/v1/invitations", json={"email": email, "role": role}, headers=owner.api())
    assert response.status_code == 201, response.get_json()
    with app.app_context(), tenant_scope(owner.tenant_id):
        invitation = db.session.get(Invitation, (owner.tenant_id, uuid.UUID(response.get_json()["id"])))
        # The raw link token only travels by email; tests of the email path read it there.
        # Here we mint a fresh one on the same invitation to join quickly.
        import hashlib
        import secrets

        raw = secrets.token_urlsafe(16)
        invitation.token_hash = hashlib.sha256(raw.encode()).hexdigest()
        db.session.commit()
    with app.app_context():
        accept_invitation(f"{owner.tenant_id.hex}.{raw}", PASSWORD)
        user = db.session.scalar(db.select(User).where(User.email == email))
        with tenant_scope(owner.tenant_id):
            assert db.session.scalar(db.select(Membership).where(Membership.user_id == user.id))
        return user.id
