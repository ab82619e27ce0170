"""Conversations: a client's message in, the bot's answer out, a manager's hand on it.

:func:`receive` stores the client, the conversation and the message from the very first
message, with the ``message.received`` event, in the caller's transaction; the bot's
reply is decided in the same breath, so that the channel can answer inside the webhook's
response. Nothing here waits on anything slow: replies that cannot ride on the response go
out through a job (:mod:`twofold.channels.delivery`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from twofold.auth.permissions import require
from twofold.channels import flows
from twofold.channels.meta import Inbound, Outbound
from twofold.channels.models import BotFlow, Channel, ContactIdentity, Conversation, Message
from twofold.db import db, new_id, utcnow
from twofold.entities.models import Record
from twofold.events import outbox
from twofold.exceptions import NotFound
from twofold.tenancy.scope import owned
from twofold.validation import ValidationError

# Commands a client may type that are not answers ("/start campaign" opens a Telegram chat).
_COMMAND_PREFIX = "/"


@dataclass
class Received:
    """What :func:`receive` did: the conversation, and the bot's reply if it has one."""

    conversation: Conversation | None
    identity: ContactIdentity | None = None
    reply: Message | None = None
    duplicate: bool = False
    # Set by :func:`store` for a channel that answers in its response: the reply as it goes
    # out and where to, read before the commit so that answering costs no second query.
    answer: Outbound | None = None
    address: str | None = None


def store(
    channel: Channel, inbound: Inbound, *, answers_inline: bool, flow: dict[str, Any] | None = None
) -> Received:
    """:func:`receive` and commit, once per message, whatever races or repeats.

    The first try skips the duplicate look-up; a unique-key clash (a re-sent message, or two
    first messages of one client racing) is tried once more, looking first. With
    ``answers_inline`` the bot's reply rides in the platform's response (``answered``; a
    repeat gets it again); otherwise it is queued for delivery.
    """
    from sqlalchemy.exc import IntegrityError

    from twofold.channels import delivery

    for check_seen in (False, True):
        try:
            result = receive(channel, inbound, check_seen=check_seen, flow=flow)
            reply = result.reply
            if reply is not None and answers_inline and (not result.duplicate or reply.status == "answered"):
                reply.status = "answered"
                result.answer = Outbound(reply.text, tuple(reply.choices or ()))
                known = result.identity.address if result.identity else None
                result.address = known or inbound.address or inbound.user_id
            elif reply is not None and not result.duplicate:
                db.session.flush()
                delivery.queue(reply)
            db.session.commit()
            return result
        except IntegrityError:
            db.session.rollback()
            if check_seen:
                raise
    raise AssertionError("unreachable: the second try raises or returns")


# Built once: on the webhook's hot path, building a statement costs more than running it.
_CLIENT = (
    select(ContactIdentity, Conversation)
    .outerjoin(
        Conversation,
        (Conversation.tenant_id == ContactIdentity.tenant_id)
        & (Conversation.identity_id == ContactIdentity.id)
        & (Conversation.state != "closed"),
    )
    .where(
        ContactIdentity.channel_id == bindparam("channel_id"),
        ContactIdentity.external_user_id == bindparam("user_id"),
    )
    .order_by(Conversation.started_at.desc())
    .limit(1)
)


def _client(channel: Channel, inbound: Inbound) -> tuple[ContactIdentity, Conversation | None]:
    """The client and their open conversation, in one query; a new client is added."""
    row = db.session.execute(_CLIENT, {"channel_id": channel.id, "user_id": inbound.user_id}).first()
    if row is None:
        identity = ContactIdentity(
            id=new_id(),  # known now, so the whole message goes in one flush at the commit
            channel_id=channel.id,
            external_user_id=inbound.user_id,
            address=inbound.address or inbound.user_id,
            display_name=inbound.name[:200],
        )
        db.session.add(identity)
        return identity, None
    identity, conversation = row
    if inbound.name and identity.display_name != inbound.name[:200]:
        identity.display_name = inbound.name[:200]
    return identity, conversation


def latest_open(identity_id: uuid.UUID) -> Conversation | None:
    """The client's conversation that is not closed yet, if any (the newest)."""
    return db.session.scalar(
        db.select(Conversation)
        .where(Conversation.identity_id == identity_id, Conversation.state != "closed")
        .order_by(Conversation.started_at.desc())
        .limit(1)
    )


def _open_conversation(
    channel: Channel, identity: ContactIdentity, conversation: Conversation | None, inbound: Inbound
) -> Conversation:
    if conversation is None:
        conversation = Conversation(
            id=new_id(),
            channel_id=channel.id,
            identity_id=identity.id,
            flow_key=channel.flow_key,
            state="bot" if channel.flow_key else "waiting",
            source={"channel": channel.kind, **inbound.source},
        )
        if not channel.flow_key:
            conversation.handed_off_at = utcnow()
        db.session.add(conversation)
    elif inbound.source:
        # A later deep link or page adds to what we know; the first source stays first.
        conversation.source = {**inbound.source, **conversation.source}
    return conversation


def flow_definition(key: str | None) -> dict[str, Any] | None:
    if not key:
        return None
    with db.session.no_autoflush:  # the message's rows go in one flush, at the commit
        row = db.session.scalar(db.select(BotFlow).where(BotFlow.key == key))
    return row.definition if row else None


def receive(
    channel: Channel, inbound: Inbound, *, check_seen: bool = True, flow: dict[str, Any] | None = None
) -> Received:
    """Store one client message and decide the bot's answer (the caller commits).

    A message seen before is a duplicate and changes nothing. ``check_seen=False`` skips
    the look-up for speed: the unique message id then refuses a duplicate when the
    transaction flushes (``IntegrityError``), everything is rolled back, and the caller
    tries again with the look-up. ``flow`` is the channel's flow definition if the caller
    read it already (the webhook reads it with the channel).
    """
    if check_seen:
        seen = db.session.scalar(
            db.select(Message).where(
                Message.channel_id == channel.id, Message.external_id == inbound.message_id
            )
        )
        if seen is not None:
            return Received(None, duplicate=True, reply=_answer_to(seen))
    identity, conversation = _client(channel, inbound)
    conversation = _open_conversation(channel, identity, conversation, inbound)
    now = utcnow()
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        external_id=inbound.message_id,
        direction="in",
        author="client",
        text=inbound.text[:10000],
        created_at=now,
    )
    db.session.add(message)
    conversation.last_message_at = now
    outbox.emit(
        "message.received",
        entity_type=identity.contact_type,
        record_id=identity.contact_id,
        conversation_id=str(conversation.id),
        channel=channel.kind,
        text=message.text[:500],
    )
    if conversation.state != "bot":
        return Received(conversation, identity)
    known_flow = flow if flow is not None and conversation.flow_key == channel.flow_key else None
    answer = _bot_turn(conversation, identity, inbound, known_flow)
    if answer is None:
        return Received(conversation, identity)
    return Received(conversation, identity, add_outbound(conversation, answer, author="bot"))


def _answer_to(message: Message) -> Message | None:
    """The bot's answer to a client's message, for a platform that re-sends it.

    A platform re-sends when it did not get our response, so the client never saw the
    answer that rode on it: it is given again (and stored once).
    """
    return db.session.scalar(
        db.select(Message)
        .where(
            Message.conversation_id == message.conversation_id,
            Message.direction == "out",
            Message.author == "bot",
            Message.created_at >= message.created_at,
        )
        .order_by(Message.created_at, Message.id)
        .limit(1)
    )


def add_outbound(
    conversation: Conversation, answer: Outbound, *, author: str, user_id: uuid.UUID | None = None
) -> Message:
    reply = Message(
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction="out",
        author=author,
        author_user_id=user_id,
        text=answer.text,
        choices=list(answer.choices),
        status="queued",
    )
    db.session.add(reply)
    conversation.last_message_at = utcnow()
    return reply


def _known_values(identity: ContactIdentity, inbound: Inbound, definition: dict[str, Any]) -> dict[str, Any]:
    """Answers the client already gave elsewhere: the linked contact's fields, the platform's."""
    known: dict[str, Any] = {}
    contact_alias = next((alias for alias, _type in flows.records(definition)), None)
    if identity.contact_id is not None and contact_alias:
        contact = owned(Record, identity.contact_id)
        if contact is not None and contact.deleted_at is None:
            known.update({f"{contact_alias}.{k}": v for k, v in (contact.data or {}).items() if v})
    for kind, value in inbound.known.items():  # {"phone": "+7..."}: fills the first such step
        step = next((s for s in flows.steps(definition) if s.get("input") == kind), None)
        if step and step.get("target"):
            known.setdefault(step["target"], value)
    return known


def _skip_known(
    definition: dict[str, Any], key: str | None, answers: dict[str, Any], known: dict[str, Any]
) -> str | None:
    """The first step from ``key`` on whose answer is not known yet (known ones are filled)."""
    while key is not None:
        current = flows.step(definition, key)
        if current is None:
            return None
        target = current.get("target")
        if key in answers:
            value = answers[key]
        elif target and known.get(target) not in (None, ""):
            value = answers[key] = known[target]
        else:
            return key
        key = flows.next_key(definition, current, value)
    return None


def _question(definition: dict[str, Any], key: str) -> Outbound:
    current = flows.step(definition, key) or {}
    return Outbound(str(current.get("question", "")), tuple(str(c) for c in current.get("choices") or ()))


def _bot_turn(
    conversation: Conversation, identity: ContactIdentity, inbound: Inbound, flow: dict[str, Any] | None
) -> Outbound | None:
    definition = flow if flow is not None else flow_definition(conversation.flow_key)
    if definition is None:
        _hand_off(conversation)
        return None
    if conversation.completed_at is not None:
        return None  # handed back after the flow: the bot has nothing more to ask
    answers = dict(conversation.answers or {})
    known = _known_values(identity, inbound, definition)
    lead_in: list[str] = []
    if conversation.step is None:
        lead_in.append(str(definition.get("greeting") or ""))
        key = flows.first_key(definition)
    else:
        current = flows.step(definition, conversation.step)
        if current is None:  # the flow was edited under the conversation: start its questions again
            key = flows.first_key(definition)
        elif inbound.text.startswith(_COMMAND_PREFIX):
            key = current["key"]
        else:
            try:
                value = flows.parse_answer(current, inbound.text)
            except ValidationError as exc:
                conversation.answers = answers
                question = _question(definition, current["key"])
                return Outbound(f"{exc.messages[0]}\n\n{question.text}".strip(), question.choices)
            answers[current["key"]] = value
            key = flows.next_key(definition, current, value)
    key = _skip_known(definition, key, answers, known)
    conversation.answers = answers
    conversation.step = key
    if key is None:
        # Every answer is in. The records are made by the event's handler, in a worker:
        # the webhook answers at once, and the outbox makes sure they are made even if
        # Redis is down right now (see twofold.channels.completion).
        _hand_off(conversation)
        outbox.emit("conversation.answered", conversation_id=str(conversation.id))
        lead_in.append(str(definition.get("done") or ""))
        return Outbound("\n\n".join(t for t in lead_in if t))
    question = _question(definition, key)
    return Outbound("\n\n".join(t for t in [*lead_in, question.text] if t), question.choices)


def _hand_off(conversation: Conversation) -> None:
    conversation.state = "waiting"
    conversation.handed_off_at = conversation.handed_off_at or utcnow()


# -- what managers do -------------------------------------------------------------------------


def require_view() -> None:
    require("conversations.view")


def get(conversation_id: uuid.UUID) -> Conversation:
    require("conversations.view")
    conversation = owned(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("conversation")
    return conversation


def take_over(conversation_id: uuid.UUID) -> Conversation:
    actor = require("conversations.reply")
    conversation = get(conversation_id)
    if conversation.state == "closed":
        raise ValidationError({"state": ["The conversation is closed."]})
    conversation.state = "human"
    conversation.assignee_id = actor.user_id
    conversation.handed_off_at = conversation.handed_off_at or utcnow()
    return conversation


def reply(conversation_id: uuid.UUID, text: str) -> Message:
    """A manager's answer: it takes the conversation over and goes out on the client's channel."""
    actor = require("conversations.reply")
    conversation = get(conversation_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["Write a reply."]})
    if len(text) > 4000:
        raise ValidationError({"text": ["A reply is at most 4000 characters."]})
    if conversation.state != "human":
        take_over(conversation_id)
    message = add_outbound(conversation, Outbound(text), author="human", user_id=actor.user_id)
    conversation.first_human_reply_at = conversation.first_human_reply_at or utcnow()
    db.session.flush()
    from twofold.channels import delivery

    delivery.queue(message)
    return message


def hand_back(conversation_id: uuid.UUID) -> Conversation:
    require("conversations.reply")
    conversation = get(conversation_id)
    if conversation.state == "closed":
        raise ValidationError({"state": ["The conversation is closed."]})
    conversation.state = "bot" if conversation.completed_at is None and conversation.flow_key else "waiting"
    return conversation


def close(conversation_id: uuid.UUID) -> Conversation:
    require("conversations.reply")
    conversation = get(conversation_id)
    if conversation.state != "closed":
        conversation.state = "closed"
        conversation.closed_at = utcnow()
        conversation.handed_off_at = conversation.handed_off_at or conversation.closed_at
    return conversation


def transcript(conversation_id: uuid.UUID) -> list[Message]:
    get(conversation_id)
    return list(
        db.session.scalars(
            db.select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
        )
    )
