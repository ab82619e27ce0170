"""The website chat widget: a channel kind, and the public routes its script talks to.

A tenant pastes one ``<script src=".../chat/<channel id>/widget.js" async>`` tag. The
script posts the visitor's messages to ``POST /chat/<id>/messages`` and gets the bot's
answer in the response; a manager's replies are stored (the kind has no ``send``) and the
script fetches them with ``GET /chat/<id>/messages?visitor=...&after=...`` while the chat is
open. The visitor is a random id the script keeps in the browser: it is the client's
external user id within the channel, so a visitor reads only their own conversation, and
nobody can read anyone's without that id. Every route is public, CSRF-exempt (the site is
someone else's), CORS-open, and throttled per IP.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from html import escape
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from twofold.api.errors import api_error, validation_error
from twofold.auth.throttle import Rule, throttle
from twofold.channels import conversations
from twofold.channels.meta import ChannelSpec, Inbound
from twofold.channels.models import Channel, ContactIdentity, Conversation, Message
from twofold.channels.widget_script import SCRIPT, style
from twofold.db import db, writing
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import tenant_scope, unscoped

KIND = "widget"
# No send: a reply is delivered by being stored; the widget fetches it.
SPEC = ChannelSpec(KIND, "Website chat widget")

bp = Blueprint("widget", __name__)

# A visitor types slowly; a script in a loop does not. Polling every few seconds from a
# few tabs behind one office NAT stays well inside the read limit.
SEND_LIMIT = "30 per minute"
READ_LIMIT = "300 per minute"
POLL_SECONDS = 4
TEXT_MAX = 4000
# The script's ids are 36 hex characters; anything of this shape is accepted.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,48}$")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@bp.after_request
def _cors(response: Response) -> Response:
    # Any site may embed the widget; nothing here reads cookies, so "*" gives nothing away.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response


def _channel_tenant(channel_id: uuid.UUID) -> uuid.UUID | None:
    with unscoped("a widget's channel id names its tenant; the visitor id is the reader's key"):
        return db.session.scalar(
            db.select(Channel.tenant_id).where(
                Channel.id == channel_id, Channel.kind == KIND, Channel.enabled.is_(True)
            )
        )


def _throttled(kind: str, limit: str) -> tuple[Response, int] | None:
    rules = [Rule(limit, f"widget-{kind}-ip:{request.remote_addr}")]
    refused = throttle().refused(rules)
    if refused is not None:
        response, status = api_error(429, "throttled", "Too many requests; try again later.")
        response.headers["Retry-After"] = str(refused.retry_after)
        return response, status
    throttle().hit(rules)
    return None


def _not_found() -> tuple[Response, int]:
    return api_error(404, "not_found", "No such chat.")


def public_message(message: Message) -> dict[str, Any]:
    """A message as the visitor sees it: no staff ids, no delivery status."""
    return {
        "id": str(message.id),
        "author": message.author,
        "text": message.text,
        "choices": list(message.choices or []),
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def _visitor_error(value: Any) -> str | None:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        return "A random id of 16 to 48 letters, digits, '-' or '_'."
    return None


# -- the script ------------------------------------------------------------------------------


def _script(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="application/javascript")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/chat/<uuid:channel_id>/widget.js")
def script(channel_id: uuid.UUID) -> Response:
    tenant_id = _channel_tenant(channel_id)
    if tenant_id is None:
        return _script("/* No such chat. */\n", 404)
    with tenant_scope(tenant_id):
        channel = db.session.get(Channel, (tenant_id, channel_id))
        title = channel.name if channel else "Chat"
        db.session.rollback()
    config = {
        "channel": str(channel_id),
        # Paths only: the script resolves them against its own src, so it works on any site.
        "script": url_for("widget.script", channel_id=channel_id),
        "messages": url_for("widget.messages", channel_id=channel_id),
        "title": title,
        "css": style("#1f6feb"),
        "poll_seconds": POLL_SECONDS,
        "labels": {
            "open": "Open the chat", "close": "Close the chat", "send": "Send",
            "placeholder": "Write a message…", "empty": "Ask us anything: we answer here.",
            "failed": "Not sent. Check your connection and try again.",
        },
    }
    # "<" escaped: the config cannot close a <script> element should someone inline it.
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return _script(f"(function (TWOFOLD_CHAT) {{\n{SCRIPT}\n}})({data});\n")


# -- messages --------------------------------------------------------------------------------


def _source(body: dict[str, Any]) -> dict[str, str]:
    source: dict[str, str] = {}
    utm = body.get("utm")
    if isinstance(utm, dict):
        source.update({k: str(utm[k])[:500] for k in UTM_FIELDS if isinstance(utm.get(k), str) and utm[k]})
    for key in ("referrer", "page"):
        if isinstance(body.get(key), str) and body[key].strip():
            source[key] = body[key].strip()[:500]
    return source


def _read_post(body: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    if not isinstance(body, dict):
        return {}, {"_schema": ["Send a JSON object."]}
    errors: dict[str, list[str]] = {}
    if (problem := _visitor_error(body.get("visitor"))) is not None:
        errors["visitor"] = [problem]
    if (problem := _visitor_error(body.get("message_id"))) is not None:
        errors["message_id"] = [problem]
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        errors["text"] = ["Write a message."]
    elif len(text) > TEXT_MAX:
        errors["text"] = [f"A message is at most {TEXT_MAX} characters."]
    for key in ("page", "referrer", "name"):
        if body.get(key) is not None and not isinstance(body[key], str):
            errors[key] = ["A string."]
    if body.get("utm") is not None and not isinstance(body["utm"], dict):
        errors["utm"] = ["An object of utm_* values."]
    return body, errors


@bp.post("/chat/<uuid:channel_id>/messages")
def post_message(channel_id: uuid.UUID) -> Any:
    if (refused := _throttled("send", SEND_LIMIT)) is not None:
        return refused
    with writing():  # on SQLite, queue behind other writers instead of failing
        return _post_message(channel_id)


def _post_message(channel_id: uuid.UUID) -> Any:
    tenant_id = _channel_tenant(channel_id)
    if tenant_id is None:
        return _not_found()
    body, errors = _read_post(request.get_json(silent=True))
    if errors:
        return validation_error(errors)
    visitor = body["visitor"]
    inbound = Inbound(
        user_id=visitor,
        # Namespaced by visitor: one visitor's ids can never swallow another's message.
        message_id=f"{visitor}:{body['message_id']}",
        text=body["text"].strip(),
        name=(body.get("name") or "").strip()[:200] or f"Website visitor {visitor[:6]}",
        source=_source(body),
    )
    with tenant_scope(tenant_id):
        channel = db.session.get(Channel, (tenant_id, channel_id))
        if channel is None:
            return _not_found()
        # Stored once even if a double send races itself; a repeat answers like the first time.
        result = conversations.store(channel, inbound, answers_inline=True)
        if result.duplicate:
            mine, replies = _repeat(channel_id, inbound.message_id)
            if mine is None:
                return _not_found()
            return jsonify({"duplicate": True, "message": mine, "replies": replies})
        assert result.conversation is not None
        sent = db.session.scalar(
            db.select(Message).where(
                Message.channel_id == channel_id, Message.external_id == inbound.message_id
            )
        )
        payload = {
            "duplicate": False,
            "state": result.conversation.state,
            "message": public_message(sent) if sent else None,
            "replies": [public_message(result.reply)] if result.reply is not None else [],
        }
        db.session.rollback()
    return jsonify(payload), 201


def _repeat(channel_id: uuid.UUID, external_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The original of a repeated message, and the answers that followed it, as first sent."""
    original = db.session.scalar(
        db.select(Message).where(Message.channel_id == channel_id, Message.external_id == external_id)
    )
    if original is None:
        return None, []
    after = _transcript(original.conversation_id)
    index = next(i for i, m in enumerate(after) if m.id == original.id)
    replies = []
    for message in after[index + 1:]:
        if message.direction == "in":
            break
        replies.append(public_message(message))
    return public_message(original), replies


def _transcript(conversation_id: uuid.UUID) -> list[Message]:
    return list(
        db.session.scalars(
            db.select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
        )
    )


def _after(value: str) -> uuid.UUID | datetime | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/chat/<uuid:channel_id>/messages")
def messages(channel_id: uuid.UUID) -> Any:
    if (refused := _throttled("read", READ_LIMIT)) is not None:
        return refused
    tenant_id = _channel_tenant(channel_id)
    if tenant_id is None:
        return _not_found()
    visitor = request.args.get("visitor")
    errors: dict[str, list[str]] = {}
    if (problem := _visitor_error(visitor)) is not None:
        errors["visitor"] = [problem]
    after = None
    if request.args.get("after"):
        after = _after(request.args["after"])
        if after is None:
            errors["after"] = ["A message id or an ISO date and time."]
    if errors:
        return validation_error(errors)
    with tenant_scope(tenant_id):
        conversation = _latest_conversation(channel_id, str(visitor))
        if conversation is None:
            db.session.rollback()
            return jsonify({"state": None, "messages": []})
        listed = _transcript(conversation.id)
        if isinstance(after, datetime):
            listed = [m for m in listed if m.created_at > after]
        elif after is not None:
            # An id from an earlier conversation (closed since) is not found: all of this one.
            index = next((i for i, m in enumerate(listed) if m.id == after), None)
            if index is not None:
                listed = listed[index + 1:]
        payload = {"state": conversation.state, "messages": [public_message(m) for m in listed]}
        db.session.rollback()
    return jsonify(payload)


def _latest_conversation(channel_id: uuid.UUID, visitor: str) -> Conversation | None:
    """The visitor's open conversation, or the last one if a manager closed it."""
    identity_id = db.session.scalar(
        db.select(ContactIdentity.id).where(
            ContactIdentity.channel_id == channel_id, ContactIdentity.external_user_id == visitor
        )
    )
    if identity_id is None:
        return None
    rows = db.session.scalars(
        db.select(Conversation)
        .where(Conversation.identity_id == identity_id)
        .order_by(Conversation.started_at.desc())
        .limit(5)
    ).all()
    return next((c for c in rows if c.state != "closed"), rows[0] if rows else None)


# -- the demo page (development only) --------------------------------------------------------

_DEMO_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — website chat demo</title></head>
<body>
<h1>{title}</h1>
<p>A plain page with the website chat widget of <strong>{title}</strong>: open it with the
round button at the bottom right. Its conversations appear in the tenant's inbox
(<code>GET /api/v1/conversations</code>), and a manager's reply shows up here within seconds.</p>
<p>Try it as a visitor from an ad: <a href="?utm_source=demo&amp;utm_medium=cpc&amp;utm_campaign=spring">this
page with UTM parameters</a>. The widget is this one tag:</p>
<pre><code>{snippet}</code></pre>
{tag}
</body>
</html>
"""


@bp.get("/demo/chat/<slug>")
def demo(slug: str) -> Any:
    if current_app.config.get("TWOFOLD_ENV") == "production":
        return Response("Not found.", status=404, mimetype="text/plain")
    tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        return Response("Not found.", status=404, mimetype="text/plain")
    with tenant_scope(tenant.id):
        channel = db.session.scalar(
            db.select(Channel)
            .where(Channel.kind == KIND, Channel.enabled.is_(True))
            .order_by(Channel.created_at)
            .limit(1)
        )
        channel_id = channel.id if channel else None
        db.session.rollback()
    if channel_id is None:
        return Response(
            "This tenant has no website chat channel yet (its manifest's [[channels]] were skipped?).",
            status=404, mimetype="text/plain",
        )
    tag = f'<script src="{escape(url_for("widget.script", channel_id=channel_id))}" async></script>'
    page = _DEMO_PAGE.format(title=escape(tenant.name), snippet=escape(embed_snippet(channel_id)), tag=tag)
    return Response(page, mimetype="text/html")


def embed_snippet(channel_id: uuid.UUID) -> str:
    """The one tag a tenant pastes into their site, with the app's public address."""
    from twofold.channels.service import public_url

    return f'<script src="{public_url("widget.script", channel_id=channel_id)}" async></script>'


def register(app: Any) -> None:
    from twofold.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
