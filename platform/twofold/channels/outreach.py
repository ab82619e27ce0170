"""Messages the CRM starts: an automation's touch to a client on the channel they wrote from.

The record an automation acts on may be the contact itself, the lead a conversation
created, or a record related to such a contact (an order of the contact): each leads to
the client's channel identity. A message is keyed by the action's idempotency key, so a
job that runs twice adds one message and sends it once.
"""

from __future__ import annotations

import uuid

from twofold.channels import delivery
from twofold.channels.conversations import add_outbound, latest_open
from twofold.channels.meta import Outbound
from twofold.channels.models import Channel, ContactIdentity, Conversation, Message
from twofold.db import db, utcnow
from twofold.entities.models import Relation


class NoChannel(LookupError):
    """Nobody to write to: the record leads to no client who wrote on a channel."""


def identity_for(record_id: uuid.UUID, kind: str | None = None) -> ContactIdentity | None:
    def latest(*where: object) -> ContactIdentity | None:
        query = db.select(ContactIdentity).join(Channel, Channel.id == ContactIdentity.channel_id).where(
            Channel.enabled.is_(True), *where
        )
        if kind:
            query = query.where(Channel.kind == kind)
        return db.session.scalar(query.order_by(ContactIdentity.created_at.desc()).limit(1))

    found = latest(ContactIdentity.contact_id == record_id)
    if found is None:
        found = latest(ContactIdentity.id.in_(
            db.select(Conversation.identity_id).where(Conversation.lead_id == record_id)
        ))
    if found is None:
        found = latest(ContactIdentity.contact_id.in_(
            db.select(Relation.to_id).where(Relation.from_id == record_id)
        ))
    return found


def send_to_record(record_id: uuid.UUID, text: str, *, key: str, kind: str | None = None) -> Message:
    text = (text or "").strip()
    if not text:
        raise ValueError("the message is empty")
    external_id = f"auto:{key}"[:120]
    existing = db.session.scalar(db.select(Message).where(Message.external_id == external_id))
    if existing is not None:
        return existing
    identity = identity_for(record_id, kind)
    if identity is None:
        raise NoChannel("this record leads to no client on a channel" + (f" of kind {kind}" if kind else ""))
    conversation = latest_open(identity.id)
    if conversation is None:
        # The client's answer to this touch should reach a person, not restart the bot.
        now = utcnow()
        conversation = Conversation(
            channel_id=identity.channel_id, identity_id=identity.id, state="waiting",
            source={"automation": True}, started_at=now, handed_off_at=now,
        )
        db.session.add(conversation)
        db.session.flush()
    message = add_outbound(conversation, Outbound(text), author="bot")
    message.external_id = external_id
    db.session.flush()
    delivery.queue(message)
    return message
