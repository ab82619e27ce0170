"""Settings pages: members and invitations, API tokens, the security log."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from twofold.auth import security_log, service, tokens
from twofold.auth.permissions import current_actor
from twofold.db import db
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web.forms import attempt, form_data

bp = tenant_blueprint("settings", __name__, url_prefix="/settings")


@bp.get("/members")
def members() -> Any:
    return render_template(
        "settings/members.html", members=service.members(), errors={}, form={}, actor=current_actor()
    )


@bp.post("/members/invite")
def invite() -> Any:
    invitation, errors = attempt(lambda: service.invite(form_data("email", "role")))
    if invitation is not None:
        db.session.commit()
        flash(f"Invitation sent to {invitation.email}.")
        return redirect(url_for(".members"))
    return render_template(
        "settings/members.html", members=service.members(), errors=errors, form=request.form,
        actor=current_actor(),
    ), 422


@bp.post("/members/<uuid:membership_id>/role")
def change_role(membership_id: uuid.UUID) -> Any:
    _done, errors = attempt(lambda: service.change_role(membership_id, request.form.get("role", "")))
    if errors:
        flash(" ".join(m for ms in errors.values() for m in ms), "error")
    else:
        db.session.commit()
        flash("Role changed.")
    return redirect(url_for(".members"))


@bp.post("/members/<uuid:membership_id>/remove")
def remove_member(membership_id: uuid.UUID) -> Any:
    _done, errors = attempt(lambda: service.remove_member(membership_id))
    if errors:
        flash(" ".join(m for ms in errors.values() for m in ms), "error")
    else:
        db.session.commit()
        flash("Member removed.")
    return redirect(url_for(".members"))


@bp.get("/tokens")
def api_tokens() -> Any:
    return render_template("settings/tokens.html", tokens=tokens.visible_tokens(), new_token=None)


@bp.post("/tokens")
def create_token() -> Any:
    _token, raw = tokens.issue(request.form.get("name", ""))
    db.session.commit()
    # Shown once, in this response only: it is never stored in the clear.
    return render_template("settings/tokens.html", tokens=tokens.visible_tokens(), new_token=raw)


@bp.post("/tokens/<uuid:token_id>/revoke")
def revoke_token(token_id: uuid.UUID) -> Any:
    tokens.revoke(token_id)
    db.session.commit()
    flash("Token revoked.")
    return redirect(url_for(".api_tokens"))


@bp.get("/security")
def security() -> Any:
    return render_template("settings/security.html", events=security_log.recent())
