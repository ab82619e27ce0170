"""Tables of the chatbot: channels, client identities, conversations, messages, bot flows.

All tenant-owned. Uniqueness does the deduplication: a client is one identity per
(tenant, channel, external user id), a message one row per (tenant, channel, external
message id), so a platform that re-sends an update cannot create a second anything.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from twofold.db import TenantScoped, db, utcnow

STATES = ("bot", "waiting", "human", "closed")


class Channel(TenantScoped, db.Model):
    """A tenant's connected channel: a Telegram bot, a website widget, a JSON webhook…"""

    __tablename__ = "channels"

    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    flow_key: Mapped[str | None] = mapped_column(String(80))
    # Settings shown to admins (a bot's username, a reply URL); secrets live sealed apart.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactIdentity(TenantScoped, db.Model):
    """A client as one channel knows them, linked to the CRM contact once it is matched."""

    __tablename__ = "contact_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel_id", "external_user_id"),
        ForeignKeyConstraint(
            ["tenant_id", "channel_id"], ["channels.tenant_id", "channels.id"], ondelete="CASCADE"
        ),
        Index(None, "tenant_id", "contact_id"),
    )

    channel_id: Mapped[uuid.UUID]
    external_user_id: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(120))  # where replies go (a chat id)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    contact_type: Mapped[str | None] = mapped_column(String(63))
    contact_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(TenantScoped, db.Model):
    """One conversation with a client, from their first message until it is closed.

    ``state``: ``bot`` (the flow is asking), ``waiting`` (handed off, no human yet),
    ``human`` (a manager took over), ``closed``. The timestamps are what speed-to-lead and
    the bot's completion and hand-off rates are measured from.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "channel_id"], ["channels.tenant_id", "channels.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "identity_id"],
            ["contact_identities.tenant_id", "contact_identities.id"],
            ondelete="CASCADE",
        ),
        Index(None, "tenant_id", "identity_id", "started_at"),
        Index(None, "tenant_id", "state", "last_message_at"),
    )

    channel_id: Mapped[uuid.UUID]
    identity_id: Mapped[uuid.UUID]
    state: Mapped[str] = mapped_column(String(10), default="bot")
    flow_key: Mapped[str | None] = mapped_column(String(80))
    step: Mapped[str | None] = mapped_column(String(63))  # the question awaiting an answer
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assignee_id: Mapped[uuid.UUID | None]
    lead_type: Mapped[str | None] = mapped_column(String(63))
    lead_id: Mapped[uuid.UUID | None]
    error: Mapped[str | None] = mapped_column(Text)  # why the lead could not be created
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]  # the flow finished and the lead exists
    handed_off_at: Mapped[datetime | None]  # the bot stopped: flow done or a human took over
    first_human_reply_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class Message(TenantScoped, db.Model):
    """One message in or out. ``author``: ``client``, ``bot`` or ``human``.

    ``status`` of an outbound message: ``answered`` (sent in the webhook's response),
    ``queued``, ``sent``, ``failed``; inbound ones are ``received``.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel_id", "external_id"),
        ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["conversations.tenant_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        Index(None, "tenant_id", "conversation_id", "created_at"),
    )

    conversation_id: Mapped[uuid.UUID]
    channel_id: Mapped[uuid.UUID]
    external_id: Mapped[str | None] = mapped_column(String(120))
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    author: Mapped[str] = mapped_column(String(10))
    author_user_id: Mapped[uuid.UUID | None]
    text: Mapped[str] = mapped_column(Text, default="")
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BotFlow(TenantScoped, db.Model):
    """A tenant's copy of a flow: seeded from a pack, edited by admins, checked on save."""

    __tablename__ = "bot_flows"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(80))
    pack: Mapped[str | None] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(120))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
