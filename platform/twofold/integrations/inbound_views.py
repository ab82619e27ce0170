"""Public ways in: ``POST /f/<slug>/<key>`` (a web form) and ``POST /hooks/inbound/<id>``,
and ``GET /f/<slug>/<key>.js``, the script a tenant embeds to draw and send that form.

Both are CSRF-exempt (the form posts from the tenant's own site; the hook is signed) and
never create a second record for a re-sent request (see :mod:`twofold.integrations.intake`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request

from twofold.api.errors import api_error, validation_error
from twofold.auth.throttle import Rule, throttle
from twofold.db import db, writing
from twofold.integrations import endpoints, intake, signing
from twofold.integrations.embed_script import SCRIPT
from twofold.integrations.models import InboundEndpoint
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import tenant_scope, unscoped
from twofold.validation import ValidationError

bp = Blueprint("inbound", __name__)

FORM_LIMIT = "30 per minute"


def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    return response


def _answer(result: dict[str, Any], created: bool) -> Response:
    response = jsonify(result)
    response.status_code = 201 if created else 200
    return response


@bp.route("/f/<slug>/<key>", methods=["OPTIONS"])
def form_preflight(slug: str, key: str) -> Response:
    return _cors(Response(status=204))


@bp.post("/f/<slug>/<key>")
def form_post(slug: str, key: str) -> Any:
    with writing():  # on SQLite, queue behind other writers instead of failing
        return _form_post(slug, key)


def _form_post(slug: str, key: str) -> Any:
    rules = [Rule(FORM_LIMIT, f"inbound-form-ip:{request.remote_addr}")]
    if (refused := throttle().refused(rules)) is not None:
        response, status = api_error(429, "throttled", "Too many submissions; try again later.")
        response.headers["Retry-After"] = str(refused.retry_after)
        return _cors(response), status
    throttle().hit(rules)
    tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        return _cors(api_error(404, "not_found", "No such form.")[0]), 404
    incoming = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(incoming, dict):
        return _cors(validation_error("Send form fields or a JSON object.")[0]), 422
    if not incoming.get("referrer") and request.referrer:
        incoming["referrer"] = request.referrer
    with tenant_scope(tenant.id):
        endpoint = db.session.scalar(
            db.select(InboundEndpoint).where(
                InboundEndpoint.key == key, InboundEndpoint.kind == "form", InboundEndpoint.enabled.is_(True)
            )
        )
        if endpoint is None:
            return _cors(api_error(404, "not_found", "No such form.")[0]), 404
        data = intake.mapped(endpoint, incoming)
        idem = request.headers.get("Idempotency-Key") or (
            str(incoming.get(endpoint.id_field) or "") if endpoint.id_field else ""
        )
        try:
            result, created = intake.create_once(endpoint, idem or None, data)
        except ValidationError as exc:
            db.session.rollback()
            return _cors(validation_error(exc.messages)[0]), 422
    return _cors(_answer(result, created))


def _script(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="application/javascript")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/f/<slug>/<key>.js")
def form_script(slug: str, key: str) -> Response:
    """The embeddable form: one ``<script src=".../f/<slug>/<key>.js">`` on the tenant's page
    draws the form (or enhances ``<form data-twofold-form="<key>">``) and posts it to
    :func:`form_post` with the page's UTM values, the referrer and an Idempotency-Key."""
    tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        return _script("/* No such form. */\n", 404)
    with tenant_scope(tenant.id):
        endpoint = db.session.scalar(
            db.select(InboundEndpoint).where(
                InboundEndpoint.key == key, InboundEndpoint.kind == "form", InboundEndpoint.enabled.is_(True)
            )
        )
        if endpoint is None:
            db.session.rollback()
            return _script("/* No such form. */\n", 404)
        config = {
            "key": endpoint.key,
            "action": endpoints.form_url(endpoint, slug, request.host_url),
            "fields": endpoints.form_fields(endpoint),
            "extras": endpoints.accepted_extras(endpoint),
            "submit": "Send", "sending": "Sending…", "success": "Thank you! We will be in touch soon.",
            "fix": "Please correct the marked fields.", "failed": "Sending failed. Please try again.",
        }
        db.session.rollback()
    # "<" escaped: the config cannot close a <script> element it is inlined into.
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return _script(f"(function (TWOFOLD_FORM) {{\n{SCRIPT}\n}})({data});\n")


@bp.post("/hooks/inbound/<uuid:endpoint_id>")
def hook_post(endpoint_id: uuid.UUID) -> Any:
    with writing():
        return _hook_post(endpoint_id)


def _hook_post(endpoint_id: uuid.UUID) -> Any:
    raw = request.get_data(cache=True)
    with unscoped("an inbound hook's id names its tenant; the signature proves the sender"):
        endpoint = db.session.scalar(
            db.select(InboundEndpoint).where(
                InboundEndpoint.id == endpoint_id, InboundEndpoint.kind == "hook"
            )
        )
        found = (endpoint.tenant_id, endpoint.enabled, endpoint.secret) if endpoint else None
        db.session.rollback()
    if found is None or not found[1]:
        return api_error(404, "not_found", "No such endpoint.")
    tenant_id, _enabled, secret = found
    if not signing.valid(secret, raw, request.headers.get(signing.HEADER)):
        return api_error(401, "bad_signature", f"{signing.HEADER} does not match the body.")
    incoming = request.get_json(silent=True)
    if not isinstance(incoming, dict):
        return validation_error("Send a JSON object.")
    with tenant_scope(tenant_id):
        endpoint = db.session.get(InboundEndpoint, (tenant_id, endpoint_id))
        idem = request.headers.get("Idempotency-Key") or (
            str(incoming.get(endpoint.id_field) or "") if endpoint.id_field else ""
        )
        try:
            result, created = intake.create_once(endpoint, idem or None, intake.mapped(endpoint, incoming))
        except ValidationError as exc:
            db.session.rollback()
            return validation_error(exc.messages)
    return _answer(result, created)


def register(app: Any) -> None:
    from twofold.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
