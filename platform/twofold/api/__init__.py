"""The JSON API under ``/api/v1``: token-authenticated, CSRF-exempt, JSON errors only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request

from twofold.api.errors import api_error
from twofold.auth import tokens
from twofold.auth.permissions import Actor, enter_actor
from twofold.tenancy.scope import enter_tenant

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Endpoints that authenticate otherwise (or not at all): signup creates the token.
PUBLIC_ENDPOINTS = {"api.signup"}


@bp.before_request
def _authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return api_error(401, "unauthorized", "Send 'Authorization: Bearer <API token>'.")
    identity = tokens.authenticate(raw.strip())
    if identity is None:
        return api_error(401, "unauthorized", "The API token is not valid or was revoked.")
    g.tenant = identity.tenant
    g.api_token = identity.token
    g.membership = identity.membership
    g.tenant_token = enter_tenant(identity.tenant.id)
    g.actor_token = enter_actor(Actor(identity.user.id, identity.membership.role, via="api"))
    return None


def register(app: Any) -> None:
    # Routes attach to bp on import.
    from twofold.api import (  # noqa: F401
        auth_routes,
        automations,
        channels,
        connectors,
        entity_types,
        imports,
        openapi,
        records,
        webhooks,
    )
    from twofold.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
