"""Signing in, members and roles, invitations and password resets.

Every function that changes who may do what checks the acting user's permission itself.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from marshmallow import fields, validate, validates
from sqlalchemy import func

from twofold import mail
from twofold.auth import security_log
from twofold.auth.models import Invitation, Membership, User
from twofold.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from twofold.auth.permissions import ROLES, PermissionDenied, current_actor, require
from twofold.db import db, utcnow
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import current_tenant_id, tenant_scope, unscoped
from twofold.validation import EmailField, StrictSchema, ValidationError, field_error


class NotFound(LookupError):
    """No such row in the current tenant (or not one the actor may see)."""


def _check_password(value: str) -> None:
    if len(value) < MIN_LENGTH:
        raise ValidationError(f"Use at least {MIN_LENGTH} characters.")


# --- signing in -------------------------------------------------------------------------


def tenants_of(user_id: uuid.UUID) -> list[tuple[Tenant, Membership]]:
    """Every company the user belongs to, for the switcher and sign-in."""
    with unscoped("a user's own list of tenants spans tenants by definition"):
        rows = db.session.execute(
            db.select(Tenant, Membership)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user_id)
            .order_by(Tenant.name)
        )
        return [(tenant, membership) for tenant, membership in rows]


def _log_for_each_tenant(user: User, kind: str, **detail: object) -> None:
    for tenant, _membership in tenants_of(user.id):
        with tenant_scope(tenant.id):
            security_log.record(kind, user_id=user.id, **detail)


def authenticate(email: str, password: str) -> User | None:
    """The user if the password is right; failures land in each of their tenants' logs."""
    try:
        email = EmailField().deserialize(email)
    except ValidationError:
        email = (email or "").strip().lower()
    user = db.session.scalar(db.select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else None, password or ""):
        if user is not None:
            _log_for_each_tenant(user, "login.failed")
            db.session.commit()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _log_for_each_tenant(user, "login")
    db.session.commit()
    return user


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: ``<user id>:<password generation>``."""
    user_hex, _, generation = session_id.partition(":")
    try:
        user = db.session.get(User, uuid.UUID(hex=user_hex))
    except ValueError:
        return None
    if user is None or str(int(user.password_changed_at.timestamp())) != generation:
        return None
    return user


def membership_of(user_id: uuid.UUID) -> Membership | None:
    """The user's membership in the current tenant."""
    return db.session.scalar(db.select(Membership).where(Membership.user_id == user_id))


# --- members and roles ------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    membership: Membership
    user: User


def members() -> list[Member]:
    require("members.view")
    rows = db.session.execute(
        db.select(Membership, User).join(User, User.id == Membership.user_id).order_by(User.email)
    )
    return [Member(m, u) for m, u in rows]


def _membership(membership_id: uuid.UUID) -> Membership:
    membership = db.session.get(Membership, (current_tenant_id(), membership_id))
    if membership is None:
        raise NotFound(str(membership_id))
    return membership


def _owners() -> int:
    return db.session.scalar(
        db.select(func.count()).select_from(Membership).where(Membership.role == "owner")
    )


def change_role(membership_id: uuid.UUID, role: str) -> Membership:
    actor = require("members.manage")
    membership = _membership(membership_id)  # an unknown id is a 404 whatever the role says
    if role not in ROLES:
        raise field_error("role", f"Choose one of: {', '.join(ROLES)}.")
    if "owner" in (role, membership.role):
        require("members.make_owner")
    if membership.role == "owner" and role != "owner" and _owners() == 1:
        raise field_error("role", "A company needs at least one owner.")
    if membership.role != role:
        old, membership.role = membership.role, role
        security_log.record(
            "role.changed", user_id=actor.user_id, member=str(membership.user_id), old=old, new=role
        )
    return membership


def remove_member(membership_id: uuid.UUID) -> None:
    actor = require("members.manage")
    membership = _membership(membership_id)
    if membership.role == "owner":
        require("members.make_owner")
        if _owners() == 1:
            raise field_error("role", "A company needs at least one owner.")
    security_log.record("member.removed", user_id=actor.user_id, member=str(membership.user_id))
    db.session.delete(membership)


# --- invitations ------------------------------------------------------------------------


class InvitationSchema(StrictSchema):
    email = EmailField(required=True)
    role = fields.String(load_default="agent", validate=validate.OneOf(ROLES))


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def invite(data: dict) -> Invitation:
    actor = require("members.manage")
    clean = InvitationSchema().load(data)
    if clean["role"] == "owner":
        require("members.make_owner")
    existing = db.session.scalar(
        db.select(Membership.id).join(User, User.id == Membership.user_id).where(User.email == clean["email"])
    )
    if existing:
        raise field_error("email", "This person is already a member.")
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=clean["email"],
        role=clean["role"],
        token_hash=_digest(raw),
        invited_by=actor.user_id,
        expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    tenant = db.session.get(Tenant, current_tenant_id())
    link = f"{current_app.config['PUBLIC_URL']}/invite/{tenant.id.hex}.{raw}"
    mail.send_email(
        clean["email"],
        f"You are invited to {tenant.name} on Twofold",
        f"You have been invited to join {tenant.name} on Twofold as {clean['role']}.\n\n"
        f"Accept the invitation: {link}\n\nThe link works for "
        f"{current_app.config['INVITATION_DAYS']} days.\n",
    )
    security_log.record("invitation.sent", user_id=actor.user_id, email=clean["email"], role=clean["role"])
    return invitation


@dataclass(frozen=True)
class PendingInvitation:
    tenant: Tenant
    invitation: Invitation
    existing_user: User | None


def find_invitation(link_token: str) -> PendingInvitation | None:
    """The open invitation a link stands for; the link names its tenant first."""
    tenant_hex, _, raw = link_token.partition(".")
    try:
        tenant = db.session.get(Tenant, uuid.UUID(hex=tenant_hex))
    except ValueError:
        return None
    if tenant is None or not raw:
        return None
    with tenant_scope(tenant.id):
        invitation = db.session.scalar(db.select(Invitation).where(Invitation.token_hash == _digest(raw)))
    if invitation is None or invitation.accepted_at or invitation.expires_at < utcnow():
        return None
    user = db.session.scalar(db.select(User).where(User.email == invitation.email))
    return PendingInvitation(tenant, invitation, user)


def accept_invitation(link_token: str, password: str) -> User:
    """Join the inviting tenant; a new user sets a password, an existing one confirms theirs."""
    pending = find_invitation(link_token)
    if pending is None:
        raise field_error("token", "This invitation is not valid any more.")
    user = pending.existing_user
    if user is None:
        _check_password_field(password)
        user = User(email=pending.invitation.email, password_hash=hash_password(password))
        db.session.add(user)
        db.session.flush()
    elif not verify_password(user.password_hash, password):
        raise field_error("password", "Enter the password of your existing account.")
    with tenant_scope(pending.tenant.id):
        pending.invitation.accepted_at = utcnow()
        # A second invitation to someone who joined meanwhile is used up, not a crash; the
        # role they already have stays (changing it is the members page's job).
        if membership_of(user.id) is None:
            db.session.add(Membership(user_id=user.id, role=pending.invitation.role))
            security_log.record("invitation.accepted", user_id=user.id, role=pending.invitation.role)
        db.session.commit()
    return user


def _check_password_field(password: str) -> None:
    try:
        _check_password(password or "")
    except ValidationError as exc:
        raise field_error("password", exc.messages[0]) from exc


# --- password reset ---------------------------------------------------------------------


class PasswordSchema(StrictSchema):
    password = fields.String(required=True, load_only=True)

    @validates("password")
    def _password(self, value: str, **_: object) -> None:
        _check_password(value)


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="twofold.password-reset")


def request_password_reset(email: str) -> None:
    """Email a reset link if the account exists; say nothing either way."""
    try:
        email = EmailField().deserialize(email)
    except ValidationError:
        return
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None:
        return
    token = _reset_serializer().dumps({"u": user.id.hex, "g": int(user.password_changed_at.timestamp())})
    link = f"{current_app.config['PUBLIC_URL']}/password/reset/{token}"
    mail.send_email(
        user.email,
        "Reset your Twofold password",
        f"Someone asked to reset the password of {user.email}.\n\n"
        f"Choose a new password: {link}\n\nThe link works for one hour and only once. "
        "If it was not you, ignore this email.\n",
    )
    _log_for_each_tenant(user, "password.reset_requested")
    db.session.commit()


def user_for_reset(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_SECONDS"])
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, uuid.UUID(hex=data["u"]))
    # The generation changes with the password, which makes the link single-use.
    if user is None or int(user.password_changed_at.timestamp()) != data["g"]:
        return None
    return user


def reset_password(token: str, data: dict) -> User:
    user = user_for_reset(token)
    if user is None:
        raise field_error("token", "This reset link is not valid any more. Ask for a new one.")
    clean = PasswordSchema().load(data)
    set_password(user, clean["password"])
    _log_for_each_tenant(user, "password.reset")
    db.session.commit()
    return user


class PasswordChangeSchema(StrictSchema):
    current_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, load_only=True)

    @validates("new_password")
    def _new_password(self, value: str, **_: object) -> None:
        _check_password(value)


def change_password(user: User, data: dict) -> User:
    """Change one's own password; every other session of the user ends with the old one."""
    clean = PasswordChangeSchema().load(data)
    if not verify_password(user.password_hash, clean["current_password"]):
        _log_for_each_tenant(user, "password.change_failed")
        db.session.commit()
        raise field_error("current_password", "This is not your current password.")
    set_password(user, clean["new_password"])
    _log_for_each_tenant(user, "password.changed")
    db.session.commit()
    return user


def record_throttled_login(email: str, limit: str) -> None:
    """A throttled sign-in lands in the security log of each tenant of the account."""
    try:
        email = EmailField().deserialize(email)
    except ValidationError:
        return
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None:
        return
    _log_for_each_tenant(user, "login.throttled", limit=limit)
    db.session.commit()


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    now = utcnow()
    # Whole seconds: the generation must differ from the previous one even within a second.
    previous = int(user.password_changed_at.timestamp())
    stamp = max(int(now.timestamp()), previous + 1)
    user.password_changed_at = now.fromtimestamp(stamp, tz=now.tzinfo)


__all__ = [
    "NotFound",
    "PermissionDenied",
    "authenticate",
    "change_password",
    "change_role",
    "current_actor",
    "invite",
    "members",
    "remove_member",
    "tenants_of",
]
