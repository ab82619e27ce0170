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
from sqlalchemy import bindparam, select

from twofold.api.errors import api_error
from twofold.channels import conversations, delivery, kinds
from twofold.channels.meta import ChannelSpec, Inbound
from twofold.channels.models import BotFlow, Channel
from twofold.db import db, writing
from twofold.tenancy.scope import tenant_scope, unscoped

bp = Blueprint("channel_hooks", __name__)


# Built once: building a statement costs more Python than running it (the hot path).
_CHANNEL_WITH_FLOW = (
    select(Channel, BotFlow.definition)
    .outerjoin(BotFlow, (BotFlow.tenant_id == Channel.tenant_id) & (BotFlow.key == Channel.flow_key))
    .where(Channel.id == bindparam("channel_id"), Channel.enabled.is_(True))
)


def _channel(channel_id: uuid.UUID) -> tuple[Channel, dict[str, Any] | None] | None:
    """The channel and its bot flow's definition, in one query."""
    with unscoped("a channel's webhook id names its tenant; the adapter's check proves the sender"):
        row = db.session.execute(_CHANNEL_WITH_FLOW, {"channel_id": channel_id}).first()
    return (row[0], row[1]) if row else None


@bp.post("/hooks/telegram/<uuid:channel_id>")
def telegram(channel_id: uuid.UUID) -> Any:
    with writing():
        return receive(channel_id, expected_kind="telegram")


@bp.post("/hooks/channels/<uuid:channel_id>")
def channel(channel_id: uuid.UUID) -> Any:
    with writing():
        return receive(channel_id)


def receive(channel_id: uuid.UUID, expected_kind: str | None = None) -> Any:
    loaded = _channel(channel_id)
    if loaded is None or (expected_kind and loaded[0].kind != expected_kind):
        return api_error(404, "not_found", "No such channel.")
    found, flow = loaded
    raw = request.get_data(cache=True)
    with tenant_scope(found.tenant_id):
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
        answers = [a for inbound in incoming if (a := _take(found, spec, inbound, flow)) is not None]
    return jsonify(answers[0] if answers else {})


def _take(
    channel: Channel, spec: ChannelSpec, inbound: Inbound, flow: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Store one message; the response body that answers it, if the channel has one."""
    result = conversations.store(channel, inbound, answers_inline=spec.respond is not None, flow=flow)
    if spec.respond is None or result.answer is None or result.address is None:
        return None
    return spec.respond(result.address, result.answer)


def register(app: Any) -> None:
    from twofold.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
