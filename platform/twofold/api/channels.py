"""Channels, bot flows and conversations in the API.

``/api/v1/channels`` (connect: a Telegram token, a JSON webhook's reply URL), ``/bot-flows``
(read and edit a tenant's flows; a broken flow is a 422 naming each problem) and
``/conversations`` (the inbox: list by state, one with its transcript, take over, reply,
hand back, close).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import request

from twofold.api import bp
from twofold.api.helpers import json_body
from twofold.channels import conversations, inbox, kinds, stats
from twofold.channels import service as channels
from twofold.channels.models import BotFlow, Channel, ContactIdentity, Conversation, Message
from twofold.db import db
from twofold.tenancy.scope import owned
from twofold.validation import ValidationError


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def channel_json(channel: Channel, shown: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(channel.id),
        "kind": channel.kind,
        "name": channel.name,
        "flow": channel.flow_key,
        "enabled": channel.enabled,
        "settings": channel.settings or {},
        "webhook_url": channels.public_url("channel_hooks.channel", channel_id=channel.id),
        "created_at": _iso(channel.created_at),
    }
    if channel.kind == "telegram":
        body["webhook_url"] = channels.public_url("channel_hooks.telegram", channel_id=channel.id)
    if channel.kind == "widget":  # no webhook: the site embeds this tag
        from twofold.channels.widget_views import embed_snippet

        body["embed"] = embed_snippet(channel.id)
    if shown:
        body["secrets"] = shown  # the only time they are shown
    return body


def conversation_json(conversation: Conversation, identity: ContactIdentity | None = None) -> dict[str, Any]:
    identity = identity or owned(ContactIdentity, conversation.identity_id)
    return {
        "id": str(conversation.id),
        "channel_id": str(conversation.channel_id),
        "state": conversation.state,
        "client": {
            "name": identity.display_name if identity else "",
            "external_id": identity.external_user_id if identity else None,
            "contact": (
                {"entity_type": identity.contact_type, "id": str(identity.contact_id)}
                if identity and identity.contact_id else None
            ),
        },
        "flow": conversation.flow_key,
        "step": conversation.step,
        "answers": conversation.answers or {},
        "source": conversation.source or {},
        "lead": (
            {"entity_type": conversation.lead_type, "id": str(conversation.lead_id)}
            if conversation.lead_id else None
        ),
        "error": conversation.error,
        "assignee_id": str(conversation.assignee_id) if conversation.assignee_id else None,
        "started_at": _iso(conversation.started_at),
        "last_message_at": _iso(conversation.last_message_at),
        "completed_at": _iso(conversation.completed_at),
        "handed_off_at": _iso(conversation.handed_off_at),
        "first_human_reply_at": _iso(conversation.first_human_reply_at),
        "closed_at": _iso(conversation.closed_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "direction": message.direction,
        "author": message.author,
        "author_user_id": str(message.author_user_id) if message.author_user_id else None,
        "text": message.text,
        "choices": message.choices or [],
        "status": message.status,
        "error": message.error,
        "created_at": _iso(message.created_at),
    }


def flow_json(row: BotFlow) -> dict[str, Any]:
    return {"key": row.key, "name": row.name, "pack": row.pack, "definition": row.definition,
            "updated_at": _iso(row.updated_at)}


@bp.get("/channels")
def list_channels() -> Any:
    return {"data": [channel_json(c) for c in channels.channels()],
            "kinds": sorted(kinds.available())}


@bp.post("/channels")
def connect_channel() -> Any:
    body = json_body()
    channel, shown = channels.connect(
        str(body.get("kind") or ""), str(body.get("name") or ""), body.get("flow"),
        {k: v for k, v in body.items() if k not in ("kind", "name", "flow")},
    )
    db.session.commit()
    return channel_json(channel, shown), 201


@bp.get("/channels/<uuid:channel_id>")
def get_channel(channel_id: uuid.UUID) -> Any:
    return channel_json(channels.get(channel_id))


@bp.patch("/channels/<uuid:channel_id>")
def update_channel(channel_id: uuid.UUID) -> Any:
    body = json_body()
    enabled = body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ValidationError({"enabled": ["true or false."]})
    channel = channels.update(channel_id, flow_key=body.get("flow"), enabled=enabled, name=body.get("name"))
    db.session.commit()
    return channel_json(channel)


@bp.get("/bot-flows")
def list_bot_flows() -> Any:
    return {"data": [flow_json(f) for f in channels.bot_flows()]}


@bp.get("/bot-flows/<key>")
def get_bot_flow(key: str) -> Any:
    row = next((f for f in channels.bot_flows() if f.key == key), None)
    if row is None:
        from twofold.exceptions import NotFound

        raise NotFound("bot flow")
    return flow_json(row)


@bp.put("/bot-flows/<key>")
def save_bot_flow(key: str) -> Any:
    row = channels.save_flow(key, json_body().get("definition"))
    db.session.commit()
    return flow_json(row)


@bp.get("/conversations")
def list_conversations() -> Any:
    # The inbox's own query: waiting ones longest-waiting first, the others latest first.
    rows = inbox.listing(request.args.get("state"))
    return {"data": [conversation_json(r.conversation, r.identity) for r in rows]}


def _moment(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        example = "e.g. 2026-12-01 or 2026-12-01T09:00:00+03:00"
        raise ValidationError({name: [f"A date or date-time, {example}."]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/conversations/stats")
def conversation_stats() -> Any:
    """Speed to lead, bot completion and hand-off rates over conversations started in a period."""
    found = stats.compute(_moment("since"), _moment("until"), request.args.get("channel") or None)
    return found.to_json()


@bp.get("/conversations/<uuid:conversation_id>")
def get_conversation(conversation_id: uuid.UUID) -> Any:
    body = conversation_json(conversations.get(conversation_id))
    body["messages"] = [message_json(m) for m in conversations.transcript(conversation_id)]
    return body


def _act(conversation_id: uuid.UUID, action: Any) -> Any:
    action(conversation_id)
    db.session.commit()
    return conversation_json(conversations.get(conversation_id))


@bp.post("/conversations/<uuid:conversation_id>/take-over")
def take_over_conversation(conversation_id: uuid.UUID) -> Any:
    return _act(conversation_id, conversations.take_over)


@bp.post("/conversations/<uuid:conversation_id>/hand-back")
def hand_back_conversation(conversation_id: uuid.UUID) -> Any:
    return _act(conversation_id, conversations.hand_back)


@bp.post("/conversations/<uuid:conversation_id>/close")
def close_conversation(conversation_id: uuid.UUID) -> Any:
    return _act(conversation_id, conversations.close)


@bp.post("/conversations/<uuid:conversation_id>/messages")
def reply_to_conversation(conversation_id: uuid.UUID) -> Any:
    message = conversations.reply(conversation_id, str(json_body().get("text") or ""))
    db.session.commit()  # the delivery job leaves after the commit
    return message_json(message), 201
