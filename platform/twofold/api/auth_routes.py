"""API routes for signup, the caller's identity, tokens, members and the security log."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g, request

from twofold.api import bp
from twofold.api.errors import api_error
from twofold.auth import security_log, service, tokens
from twofold.auth.models import ApiToken, Invitation, Membership, SecurityEvent
from twofold.auth.permissions import current_actor
from twofold.auth.throttle import Rule, throttle
from twofold.db import db
from twofold.tenancy import service as tenancy_service


def _json() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise service.ValidationError({"_schema": ["Send a JSON object."]})
    return data


def _token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": str(token.id),
        "name": token.name,
        "hint": token.hint,
        "user_id": str(token.user_id),
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def _member_json(membership: Membership, email: str | None = None) -> dict[str, Any]:
    data = {"id": str(membership.id), "user_id": str(membership.user_id), "role": membership.role}
    if email is not None:
        data["email"] = email
    return data


@bp.post("/signup")
def signup() -> Any:
    rules = [Rule(current_app.config["SIGNUP_LIMIT_PER_IP"], f"signup-ip:{request.remote_addr}")]
    refusal = throttle().refused(rules)
    if refusal is not None:
        response = api_error(429, "too_many_requests", "Too many sign-ups from this address; try later.")
        return response[0], 429, {"Retry-After": str(refusal.retry_after)}
    throttle().hit(rules)
    result = tenancy_service.signup(_json())
    return {
        "tenant": {"id": str(result.tenant.id), "slug": result.tenant.slug, "name": result.tenant.name},
        "user": {"id": str(result.user.id), "email": result.user.email},
        "api_token": result.api_token,
    }, 201


@bp.get("/me")
def me() -> Any:
    actor = current_actor()
    return {
        "tenant": {"id": str(g.tenant.id), "slug": g.tenant.slug, "name": g.tenant.name},
        "user_id": str(actor.user_id),
        "role": actor.role,
    }


@bp.get("/tokens")
def list_tokens() -> Any:
    return {"tokens": [_token_json(t) for t in tokens.visible_tokens()]}


@bp.post("/tokens")
def create_token() -> Any:
    data = _json()
    token, raw = tokens.issue(str(data.get("name", "")))
    db.session.commit()
    return {**_token_json(token), "token": raw}, 201


@bp.delete("/tokens/<uuid:token_id>")
def revoke_token(token_id: uuid.UUID) -> Any:
    try:
        token = tokens.revoke(token_id)
    except tokens.TokenNotFound:
        return api_error(404, "not_found", "No such token.")
    db.session.commit()
    return _token_json(token)


@bp.get("/members")
def list_members() -> Any:
    return {"members": [_member_json(m.membership, m.user.email) for m in service.members()]}


@bp.patch("/members/<uuid:membership_id>")
def update_member(membership_id: uuid.UUID) -> Any:
    data = _json()
    membership = service.change_role(membership_id, str(data.get("role", "")))
    db.session.commit()
    return _member_json(membership)


@bp.delete("/members/<uuid:membership_id>")
def delete_member(membership_id: uuid.UUID) -> Any:
    service.remove_member(membership_id)
    db.session.commit()
    return "", 204


@bp.post("/invitations")
def create_invitation() -> Any:
    invitation: Invitation = service.invite(_json())
    db.session.commit()
    return {
        "id": str(invitation.id),
        "email": invitation.email,
        "role": invitation.role,
        "expires_at": invitation.expires_at.isoformat(),
    }, 201


@bp.get("/security-events")
def security_events() -> Any:
    events: list[SecurityEvent] = security_log.recent()
    return {
        "events": [
            {
                "id": str(e.id),
                "at": e.at.isoformat(),
                "kind": e.kind,
                "user_id": str(e.user_id) if e.user_id else None,
                "ip": e.ip,
                "detail": e.detail,
            }
            for e in events
        ]
    }
