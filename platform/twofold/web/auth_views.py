"""Public pages: sign-up, sign-in and out, password reset, invitations, the tenant list."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from twofold.auth import service
from twofold.auth.throttle import Refusal, Rule, throttle
from twofold.db import db
from twofold.tenancy import service as tenancy_service
from twofold.validation import ValidationError, normalise_email
from twofold.web.forms import attempt, form_data

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect after sign-in is a phishing tool.

    Browsers read ``/\\evil.example`` as ``//evil.example`` and drop tabs and newlines
    from URLs, so backslashes and control characters are refused outright.
    """
    if not target or "\\" in target or any(ord(c) < 33 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _account_key() -> str:
    # The same normalisation as sign-in, so "Owner@X.com " and "owner@x.com" share a count.
    raw = request.form.get("email") or ""
    try:
        email = normalise_email(raw)
    except ValidationError:
        email = raw.strip().lower()
    return "login-account:" + email


def _login_rules() -> list[Rule]:
    config = current_app.config
    return [
        Rule(config["LOGIN_LIMIT_PER_IP"], f"login-ip:{request.remote_addr}"),
        Rule(config["LOGIN_LIMIT_PER_ACCOUNT"], _account_key()),
    ]


def too_many(refusal: Refusal) -> Any:
    page = render_template("errors/error.html", code=429, message="Wait a little and try again.")
    return page, 429, {"Retry-After": str(refusal.retry_after)}


def _throttled(refusal: Refusal) -> Any:
    current_app.logger.warning(
        "login throttled (%s) for %s from %s", refusal.rule.limit, _account_key(), request.remote_addr
    )
    service.record_throttled_login(request.form.get("email", ""), refusal.rule.limit)
    return too_many(refusal)


def _ip_rule(setting: str, scope: str) -> list[Rule]:
    return [Rule(current_app.config[setting], f"{scope}-ip:{request.remote_addr}")]


@bp.get("/")
def index() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    memberships = service.tenants_of(current_user.id)
    if len(memberships) == 1:
        return redirect(url_for("tenant.home", tenant=memberships[0][0].slug))
    return render_template("tenancy/choose.html", memberships=memberships)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        # Only failed attempts use up the allowance, per account and per address.
        rules = _login_rules()
        refusal = throttle().refused(rules)
        if refusal is not None:
            return _throttled(refusal)
        user = service.authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if user is None:
            throttle().hit(rules)
        if user is not None:
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
        errors = {"password": ["Wrong email or password."]}
    status = 401 if errors else 200
    return render_template("auth/login.html", errors=errors, form=request.form), status


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        rules = _ip_rule("SIGNUP_LIMIT_PER_IP", "signup")
        refusal = throttle().refused(rules)
        if refusal is not None:
            return too_many(refusal)
        throttle().hit(rules)
        data = form_data("company_name", "slug", "email", "password")
        result, errors = attempt(lambda: tenancy_service.signup(data))
        if result is not None:
            login_user(result.user)
            flash("Your company is ready. Welcome to Twofold!")
            return redirect(url_for("tenant.home", tenant=result.tenant.slug))
    status = 422 if errors else 200
    return render_template("auth/signup.html", errors=errors, form=request.form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Any:
    if request.method == "POST":
        rules = _ip_rule("LOGIN_LIMIT_PER_IP", "reset")
        refusal = throttle().refused(rules)
        if refusal is not None:
            return too_many(refusal)
        throttle().hit(rules)
        service.request_password_reset(request.form.get("email", ""))
        return render_template("auth/forgot_sent.html")
    return render_template("auth/forgot.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    if service.user_for_reset(token) is None:
        return render_template("auth/link_invalid.html"), 404
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        user, errors = attempt(lambda: service.reset_password(token, form_data("password")))
        if user is not None:
            login_user(user)
            flash("Your password is changed.")
            return redirect(url_for("auth.index"))
    return render_template("auth/reset.html", errors=errors), 422 if errors else 200


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    pending = service.find_invitation(token)
    if pending is None:
        return render_template("auth/link_invalid.html"), 404
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        user, errors = attempt(
            lambda: service.accept_invitation(token, request.form.get("password", ""))
        )
        if user is not None:
            login_user(user)
            return redirect(url_for("tenant.home", tenant=pending.tenant.slug))
    db.session.rollback()
    return render_template(
        "auth/invitation.html", pending=pending, errors=errors
    ), 422 if errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Any:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        me = current_user._get_current_object()  # type: ignore[attr-defined]
        user, errors = attempt(
            lambda: service.change_password(me, form_data("current_password", "new_password"))
        )
        if user is not None:
            # This session carries the new password generation; every other one ends.
            login_user(user)
            flash("Your password is changed. Other sessions are signed out.")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", errors=errors), 422 if errors else 200
