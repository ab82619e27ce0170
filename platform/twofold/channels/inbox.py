"""The managers' inbox: conversations by state, and what a manager needs beside one.

Read-only queries for the inbox pages and the API's conversation list. Each page costs a
fixed number of queries, however many rows it shows: the conversations with their
clients and channels in one, their last messages in one, the assignees' e-mails in one.
The actions (take over, reply, hand back, close) are :mod:`twofold.channels.conversations`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func

from twofold.channels import conversations, flows
from twofold.channels.models import STATES, Channel, ContactIdentity, Conversation, Message
from twofold.db import db
from twofold.entities import lookup, relations
from twofold.entities.models import Record
from twofold.tenancy.scope import owned
from twofold.validation import ValidationError

LIMIT = 200
SNIPPET = 120

# Source keys in the order a person reads them; any other key follows, alphabetically.
SOURCE_ORDER = ("channel", "start", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                "referrer", "page")


@dataclass
class Row:
    """One line of the inbox list."""

    conversation: Conversation
    identity: ContactIdentity
    channel: Channel
    last: Message | None = None
    assignee: str | None = None

    @property
    def snippet(self) -> str:
        text = " ".join((self.last.text if self.last else "").split())
        return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


def check_state(state: str | None) -> str | None:
    if state and state not in STATES:
        raise ValidationError({"state": [f"One of {', '.join(STATES)}."]})
    return state or None


def counts() -> dict[str, int]:
    """How many conversations are in each state (every state present, zero or not)."""
    conversations.require_view()
    rows = db.session.execute(
        db.select(Conversation.state, func.count()).group_by(Conversation.state)
    )
    found = {state: 0 for state in STATES}
    found.update({state: n for state, n in rows if state in found})
    return found


def listing(state: str | None = None, *, limit: int = LIMIT) -> list[Row]:
    """Conversations in ``state`` (all without it), with client, channel and last message.

    Waiting ones come oldest hand-off first: whoever has waited longest is on top. The
    others come by their last message, newest first.
    """
    conversations.require_view()
    state = check_state(state)
    query = (
        db.select(Conversation, ContactIdentity, Channel)
        .join(ContactIdentity, ContactIdentity.id == Conversation.identity_id)
        .join(Channel, Channel.id == Conversation.channel_id)
    )
    if state:
        query = query.where(Conversation.state == state)
    if state == "waiting":
        waited_since = func.coalesce(Conversation.handed_off_at, Conversation.started_at)
        query = query.order_by(waited_since.asc(), Conversation.id)
    else:
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id)
    rows = [Row(c, i, ch) for c, i, ch in db.session.execute(query.limit(limit))]
    if not rows:
        return rows
    lasts = _last_messages([r.conversation.id for r in rows])
    emails = lookup.user_emails(r.conversation.assignee_id for r in rows)
    for row in rows:
        row.last = lasts.get(row.conversation.id)
        if row.conversation.assignee_id:
            row.assignee = emails.get(str(row.conversation.assignee_id), "a former member")
    return rows


def _last_messages(ids: list[uuid.UUID]) -> dict[uuid.UUID, Message]:
    latest = (
        db.select(Message.conversation_id, func.max(Message.created_at).label("at"))
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
        .subquery()
    )
    same = (Message.conversation_id == latest.c.conversation_id) & (Message.created_at == latest.c.at)
    rows = db.session.scalars(db.select(Message).join(latest, same).order_by(Message.id))
    return {m.conversation_id: m for m in rows}  # two at the same instant: either will do


def messages_after(conversation_id: uuid.UUID, after: uuid.UUID | None) -> list[Message]:
    """The conversation's messages after the one with id ``after`` (all without it), in the
    transcript's order: what a page that already shows ``after`` has not seen yet."""
    conversations.get(conversation_id)
    query = db.select(Message).where(Message.conversation_id == conversation_id)
    anchor = owned(Message, after) if after else None
    if anchor is not None and anchor.conversation_id == conversation_id:
        query = query.where(
            (Message.created_at > anchor.created_at)
            | ((Message.created_at == anchor.created_at) & (Message.id > anchor.id))
        )
    return list(db.session.scalars(query.order_by(Message.created_at, Message.id)))


# -- beside one conversation -------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    key: str
    question: str | None  # None: the flow (or this step) no longer exists
    value: Any
    choice: bool  # picked from the offered options


@dataclass
class Context:
    """The card beside a conversation: who, where from, what they said, what came of it."""

    identity: ContactIdentity
    channel: Channel
    answers: list[Answer]
    source: list[tuple[str, str]]
    flow_name: str | None
    lead: lookup.RecordRef | None
    contact: lookup.RecordRef | None
    history: list[Record] = field(default_factory=list)  # the contact's other records
    assignee: str | None = None
    authors: dict[str, str] = field(default_factory=dict)  # user id -> e-mail, for reply bubbles


def _answers(conversation: Conversation, definition: dict[str, Any] | None) -> list[Answer]:
    given = dict(conversation.answers or {})
    out = []
    if definition:
        for step in flows.steps(definition):  # in the flow's order, as the client was asked
            key = step.get("key")
            if key in given:
                out.append(Answer(key, str(step.get("question") or "") or None, given.pop(key),
                                  step.get("input") == "choice"))
    out.extend(Answer(key, None, value, False) for key, value in given.items())
    return out


def _source(conversation: Conversation) -> list[tuple[str, str]]:
    source = {str(k): str(v) for k, v in (conversation.source or {}).items() if v not in (None, "")}
    ordered = [(k, source.pop(k)) for k in SOURCE_ORDER if k in source]
    return ordered + sorted(source.items())


def context(conversation: Conversation, messages: list[Message]) -> Context:
    identity = owned(ContactIdentity, conversation.identity_id)
    channel = owned(Channel, conversation.channel_id)
    assert identity is not None and channel is not None  # foreign keys, same tenant
    definition = conversations.flow_definition(conversation.flow_key)
    refs = lookup.record_refs([conversation.lead_id, identity.contact_id])
    contact_ref = refs.get(str(identity.contact_id)) if identity.contact_id else None
    history: list[Record] = []
    if contact_ref is not None and not contact_ref.deleted:
        contact = owned(Record, contact_ref.id)
        if contact is not None:
            seen: set[uuid.UUID] = set()
            for rel in [*relations.related_to(contact), *relations.related(contact)]:
                if rel.record.id not in seen and rel.record.id != conversation.lead_id:
                    seen.add(rel.record.id)
                    history.append(rel.record)
            history.sort(key=lambda r: r.created_at, reverse=True)
    users = lookup.user_emails([conversation.assignee_id, *(m.author_user_id for m in messages)])
    return Context(
        identity=identity,
        channel=channel,
        answers=_answers(conversation, definition),
        source=_source(conversation),
        flow_name=str(definition.get("name") or conversation.flow_key) if definition else None,
        lead=refs.get(str(conversation.lead_id)) if conversation.lead_id else None,
        contact=contact_ref,
        history=history,
        assignee=users.get(str(conversation.assignee_id)) if conversation.assignee_id else None,
        authors=users,
    )
