"""Signing up a company: the tenant, its owner and the owner's first API token, at once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from marshmallow import fields, validate, validates
from sqlalchemy.exc import IntegrityError

from twofold.auth import security_log, tokens
from twofold.auth.models import Membership, User
from twofold.auth.passwords import MIN_LENGTH, hash_password, verify_password
from twofold.auth.permissions import Actor, acting_as
from twofold.db import db
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import tenant_scope
from twofold.validation import EmailField, StrictSchema, ValidationError, field_error

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
# Names that would clash with routes, subdomains or common infrastructure hosts.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "assets",
        "auth",
        "billing",
        "docs",
        "healthz",
        "help",
        "hooks",
        "login",
        "logout",
        "mail",
        "signup",
        "static",
        "status",
        "support",
        "t",
        "www",
    }
)


class SignupSchema(StrictSchema):
    company_name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    slug = fields.String(required=True)
    email = EmailField(required=True)
    password = fields.String(required=True, load_only=True)

    @validates("slug")
    def _slug(self, value: str, **_: object) -> None:
        check_slug(value)

    @validates("password")
    def _password(self, value: str, **_: object) -> None:
        if len(value) < MIN_LENGTH:
            raise ValidationError(f"Use at least {MIN_LENGTH} characters.")


def check_slug(value: str) -> None:
    if not SLUG_PATTERN.match(value):
        raise ValidationError(
            "3–63 lowercase letters, digits or hyphens, starting and ending with a letter or digit."
        )
    if value in RESERVED_SLUGS:
        raise ValidationError("This address is reserved; choose another.")


@dataclass(frozen=True)
class SignupResult:
    tenant: Tenant
    user: User
    api_token: str


def signup(data: dict) -> SignupResult:
    """Create a tenant and its owner in one transaction, or nothing at all.

    ``data`` is raw input (form or JSON); bad values raise ``ValidationError`` per field.
    An email that already has an account joins the new company as its owner if the
    password is that account's.
    """
    clean = SignupSchema().load(data)
    if db.session.scalar(db.select(Tenant.id).where(Tenant.slug == clean["slug"])):
        raise field_error("slug", "This address is taken.")
    user = db.session.scalar(db.select(User).where(User.email == clean["email"]))
    if user is not None and not verify_password(user.password_hash, clean["password"]):
        raise field_error(
            "email", "An account with this email exists; enter its password to add a company to it."
        )
    try:
        tenant = Tenant(slug=clean["slug"], name=clean["company_name"].strip())
        db.session.add(tenant)
        if user is None:
            user = User(email=clean["email"], password_hash=hash_password(clean["password"]))
            db.session.add(user)
        db.session.flush()
        with tenant_scope(tenant.id), acting_as(Actor(user.id, "owner")):
            db.session.add(Membership(user_id=user.id, role="owner"))
            security_log.record("tenant.created", user_id=user.id, slug=tenant.slug)
            _token, raw = tokens.issue("Created at signup")
            current_app.extensions["twofold.plugins"].call_each("twofold_tenant_created", tenant_id=tenant.id)
        db.session.commit()
    except IntegrityError as exc:
        # Two signups raced for the same slug; the database's unique index decided.
        db.session.rollback()
        raise field_error("slug", "This address is taken.") from exc
    except BaseException:
        db.session.rollback()
        raise
    return SignupResult(tenant=tenant, user=user, api_token=raw)
