"""Where platforms post client messages: ``/hooks/telegram/<id>`` and ``/hooks/channels/<id>``.

The channel's id names its tenant; the adapter's check (Telegram's secret token, an HMAC
signature) proves the sender before anything is written. The message, the client and the
conversation are committed before the answer leaves, and a re-sent update is answered 200
without a second anything, so the platform stops re-sending.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import IntegrityError

from twofold.api.errors import api_error
from twofold.channels import conversations, delivery, kinds
from twofold.channels.meta import Outbound
from twofold.channels.models import Channel
from twofold.db import db
from twofold.tenancy.scope import owned, tenant_scope, unscoped

bp = Blueprint("channel_hooks", __name__)


def _channel_tenant(channel_id: uuid.UUID) -> uuid.UUID | None:
    with unscoped("a channel's webhook id names its tenant; the adapter's check proves the sender"):
        tenant_id = db.session.scalar(
            db.select(Channel.tenant_id).where(Channel.id == channel_id, Channel.enabled.is_(True))
        )
    return tenant_id


@bp.post("/hooks/telegram/<uuid:channel_id>")
def telegram(channel_id: uuid.UUID) -> Any:
    return receive(channel_id, expected_kind="telegram")


@bp.post("/hooks/channels/<uuid:channel_id>")
def channel(channel_id: uuid.UUID) -> Any:
    return receive(channel_id)


def receive(channel_id: uuid.UUID, expected_kind: str | None = None) -> Any:
    tenant_id = _channel_tenant(channel_id)
    if tenant_id is None:
        return api_error(404, "not_found", "No such channel.")
    raw = request.get_data(cache=True)
    with tenant_scope(tenant_id):
        found = db.session.get(Channel, (tenant_id, channel_id))
        if found is None or (expected_kind and found.kind != expected_kind):
            return api_error(404, "not_found", "No such channel.")
        try:
            spec = kinds.get(found.kind)
        except kinds.UnknownChannelKind:
            return api_error(404, "not_found", "This channel's kind is not available.")
        if spec.parse is None:
            return api_error(404, "not_found", "This channel does not take webhooks.")
        try:
            incoming = spec.parse(delivery.channel_config(found), raw, dict(request.headers))
        except PermissionError as exc:
            db.session.rollback()
            return api_error(403, "forbidden", str(exc))
        except ValueError as exc:
            db.session.rollback()
            return api_error(422, "invalid", str(exc))
        answers: list[dict[str, Any]] = []
        for inbound in incoming:
            try:
                result = conversations.receive(found, inbound)
                reply = result.reply
                if reply is not None and spec.respond is not None and not answers:
                    reply.status = "answered"
                    identity_address = _address(result)
                    answers.append(spec.respond(identity_address, Outbound(reply.text, tuple(reply.choices))))
                elif reply is not None:
                    db.session.flush()
                    delivery.queue(reply)
                db.session.commit()
            except IntegrityError:
                # The same update racing itself: the other copy stored it.
                db.session.rollback()
                answers.clear()
            found = db.session.get(Channel, (tenant_id, channel_id)) or found
    return jsonify(answers[0] if answers else {})


def _address(result: conversations.Received) -> str:
    from twofold.channels.models import ContactIdentity

    assert result.conversation is not None
    identity = owned(ContactIdentity, result.conversation.identity_id)
    assert identity is not None
    return identity.address


def register(app: Any) -> None:
    from twofold.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
