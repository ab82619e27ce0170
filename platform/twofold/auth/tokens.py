"""API tokens: prefixed, random, shown once, stored only as a SHA-256 hash.

A token reads ``tf_<tenant id>_<secret>``. The tenant part is not secret; it lets the
lookup go straight to one tenant's rows (a Citus shard) by ``(tenant_id, token_hash)``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from twofold.auth import security_log
from twofold.auth.models import ApiToken, Membership, User
from twofold.auth.permissions import current_actor, require
from twofold.db import db, utcnow
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import current_tenant_id, tenant_scope

PREFIX = "tf_"
# Writing last_used_at on every request would turn reads into writes; a minute is
# precise enough for "is this token still in use?".
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenNotFound(LookupError):
    pass


@dataclass(frozen=True)
class TokenIdentity:
    tenant: Tenant
    user: User
    membership: Membership
    token: ApiToken


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(name: str, user_id: uuid.UUID | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user_id`` (default: the acting user) in the current tenant.

    Returns the row and the raw token, which is never stored and never shown again.
    """
    actor = require("tokens.own")
    owner = user_id or actor.user_id
    if owner != actor.user_id:
        require("tokens.manage")
    name = (name or "").strip() or "API token"
    secret = secrets.token_urlsafe(32)
    raw = f"{PREFIX}{current_tenant_id().hex}_{secret}"
    token = ApiToken(user_id=owner, name=name[:100], hint=secret[:6], token_hash=_digest(raw))
    db.session.add(token)
    db.session.flush()
    security_log.record("token.created", user_id=actor.user_id, token=token.name, token_id=str(token.id))
    return token, raw


def visible_tokens() -> list[ApiToken]:
    actor = require("tokens.own")
    query = db.select(ApiToken).order_by(ApiToken.created_at.desc())
    if not actor.can("tokens.manage"):
        query = query.where(ApiToken.user_id == actor.user_id)
    return list(db.session.scalars(query))


def get_visible(token_id: uuid.UUID) -> ApiToken:
    actor = require("tokens.own")
    token = db.session.get(ApiToken, (current_tenant_id(), token_id))
    if token is None or (token.user_id != actor.user_id and not actor.can("tokens.manage")):
        raise TokenNotFound(str(token_id))
    return token


def revoke(token_id: uuid.UUID) -> ApiToken:
    token = get_visible(token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        security_log.record(
            "token.revoked", user_id=current_actor().user_id, token=token.name, token_id=str(token.id)
        )
    return token


def authenticate(raw: str) -> TokenIdentity | None:
    """The tenant, user and membership a raw token stands for, or None."""
    if not raw.startswith(PREFIX):
        return None
    tenant_hex, _, secret = raw[len(PREFIX) :].partition("_")
    try:
        tenant_id = uuid.UUID(hex=tenant_hex)
    except ValueError:
        return None
    if not secret:
        return None
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    with tenant_scope(tenant.id):
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
        if token is None or token.revoked_at is not None:
            return None
        membership = db.session.scalar(db.select(Membership).where(Membership.user_id == token.user_id))
        if membership is None:  # the user left the tenant: their tokens die with it
            return None
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            token.last_used_at = now
            db.session.commit()
        user = db.session.get(User, token.user_id)
    return TokenIdentity(tenant=tenant, user=user, membership=membership, token=token)
