"""Connecting channels and keeping a tenant's bot flows: the admin's side of the chatbot."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from flask import current_app, url_for

from twofold.auth.permissions import require
from twofold.channels import flows, kinds, telegram
from twofold.channels.meta import BotFlowSpec
from twofold.channels.models import BotFlow, Channel
from twofold.db import db
from twofold.exceptions import NotFound
from twofold.integrations import secrets_box
from twofold.plugins import plugins
from twofold.tenancy.scope import owned
from twofold.validation import ValidationError


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute URL the outside world can reach (``TWOFOLD_PUBLIC_URL``)."""
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + url_for(endpoint, **values)


def channels() -> list[Channel]:
    require("conversations.view")
    return list(db.session.scalars(db.select(Channel).order_by(Channel.created_at)))


def get(channel_id: uuid.UUID) -> Channel:
    require("conversations.view")
    channel = owned(Channel, channel_id)
    if channel is None:
        raise NotFound("channel")
    return channel


def connect(
    kind: str, name: str, flow_key: str | None, settings: dict[str, Any]
) -> tuple[Channel, dict[str, str]]:
    """A new channel, ready to receive; returns it with the secrets to show once.

    A Telegram channel is checked with the Bot API and its webhook set before anything is
    saved: a wrong token is a field error, not a dead channel.
    """
    require("channels.manage")
    errors: dict[str, list[str]] = {}
    try:
        kinds.get(kind)
    except kinds.UnknownChannelKind:
        errors["kind"] = [f"Choose one of: {', '.join(sorted(kinds.available()))}."]
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the channel a name."]
    if flow_key and flow_definition_row(flow_key) is None:
        errors["flow"] = ["No such bot flow."]
    if errors:
        raise ValidationError(errors)
    channel = Channel(kind=kind, name=name[:120], flow_key=flow_key or None, settings={})
    sealed: dict[str, str] = {}
    shown: dict[str, str] = {}
    if kind == "telegram":
        token = str(settings.get("token") or "").strip()
        if not token:
            raise ValidationError({"token": ["Paste the bot token BotFather gave you."]})
        sealed = {"token": token, "webhook_secret": secrets.token_urlsafe(32)}
    elif kind != "widget":
        # The JSON channel and plugins' channels: plain settings as given (a reply URL is
        # checked like any outbound target) and a signing secret, shown once.
        plain = {k: str(v).strip()[:500] for k, v in settings.items() if isinstance(v, str | int) and v != ""}
        if plain.get("reply_url"):
            from twofold.integrations.targets import check_target

            check_target(plain["reply_url"], "reply_url")
        channel.settings = plain
        sealed = shown = {"secret": secrets.token_hex(32)}
    db.session.add(channel)
    db.session.flush()
    if kind == "telegram":
        url = public_url("channel_hooks.telegram", channel_id=channel.id)
        try:
            channel.settings = telegram.connect(sealed["token"], sealed["webhook_secret"], url)
        except telegram.TelegramError as exc:
            raise ValidationError({"token": [f"Telegram refused: {exc}"]}) from exc
    channel.secrets = secrets_box.seal(sealed) if sealed else None
    return channel, shown


def update(channel_id: uuid.UUID, *, flow_key: str | None = None, enabled: bool | None = None,
           name: str | None = None) -> Channel:
    require("channels.manage")
    channel = get(channel_id)
    if flow_key is not None:
        if flow_key and flow_definition_row(flow_key) is None:
            raise ValidationError({"flow": ["No such bot flow."]})
        channel.flow_key = flow_key or None
    if enabled is not None:
        channel.enabled = enabled
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": ["Give the channel a name."]})
        channel.name = name.strip()[:120]
    return channel


# -- bot flows ---------------------------------------------------------------------------------


def flow_definition_row(key: str) -> BotFlow | None:
    return db.session.scalar(db.select(BotFlow).where(BotFlow.key == key))


def bot_flows() -> list[BotFlow]:
    require("conversations.view")
    return list(db.session.scalars(db.select(BotFlow).order_by(BotFlow.name)))


def save_flow(key: str, definition: Any) -> BotFlow:
    """Store an edited flow; a broken one is refused with every reason, and nothing changes."""
    require("channels.manage")
    from twofold.packs import registry

    found = flows.problems(definition, registry.current().entity_types)
    if found:
        raise ValidationError({"definition": found})
    row = flow_definition_row(key)
    if row is None:
        raise NotFound("bot flow")
    row.definition = {**definition, "key": key}
    row.name = str(definition.get("name") or row.name)[:120]
    return row


def seed_flows(pack: str) -> int:
    """The pack's flows become the tenant's, once: an edited flow is never overwritten."""
    specs: list[BotFlowSpec] = [
        c.value for c in plugins().collect("twofold_bot_flows", [pack]) if c.plugin == pack
    ]
    existing = set(db.session.scalars(db.select(BotFlow.key)))
    created = 0
    for spec in specs:
        if spec.key in existing:
            continue
        db.session.add(BotFlow(key=spec.key, pack=pack, name=spec.name, definition=flows.from_spec(spec)))
        existing.add(spec.key)
        created += 1
    if created:
        db.session.flush()
    return created
