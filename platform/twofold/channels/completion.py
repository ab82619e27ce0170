"""When a flow is done: the contact matched or made, the lead made, the process started.

The bot's last answer emits ``conversation.answered``; :func:`on_event`, an event
subscriber, does the work here in a worker, in the transaction that marks the event
handled, so it happens once and survives a Redis outage (the outbox sweep re-sends).

Everything goes through the record service, so records get their pipeline's first stage,
their timeline and their events like any other. The contact is matched, not duplicated: the
client's channel identity first, then the normalised phone, then the e-mail. A lead the
records refuse (a required field the flow never asked) does not lose the conversation: the
reason is kept on it and the manager sees it in the inbox.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from twofold.auth.permissions import Actor, acting_as
from twofold.channels import flows
from twofold.channels.models import Channel, ContactIdentity, Conversation, Message
from twofold.db import db, utcnow
from twofold.entities import relations
from twofold.entities import service as records
from twofold.entities.meta import EntityType
from twofold.entities.models import Activity, Record
from twofold.events import outbox
from twofold.events.models import OutboxEvent
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.tenancy.scope import owned
from twofold.validation import ValidationError

log = logging.getLogger(__name__)
BOT = Actor(user_id=None, role="owner", via="bot")
# Conversation facts copied onto the lead where its type has such a field.
SOURCE_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")


def _by_alias(definition: dict[str, Any], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {alias: {} for alias, _type in flows.records(definition)}
    for step in definition.get("steps") or []:
        target = step.get("target")
        if target and step["key"] in answers:
            alias, _, name = target.partition(".")
            values.setdefault(alias, {})[name] = answers[step["key"]]
    return values


def _fitting(etype: EntityType, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if etype.field(k) is not None}


def _source_values(etype: EntityType, conversation: Conversation, channel: Channel) -> dict[str, Any]:
    source = conversation.source or {}
    out = {name: str(source[name])[:500] for name in SOURCE_FIELDS if source.get(name) and etype.field(name)}
    f = etype.field("source")
    if f is not None and (f.type != "choice" or channel.kind in f.choices):
        out["source"] = channel.kind
    campaign = source.get("start") or source.get("utm_campaign")
    if campaign and etype.field("campaign") is not None:
        out["campaign"] = str(campaign)[:200]
    return out


def match_contact(etype: EntityType, identity: ContactIdentity, values: dict[str, Any]) -> Record | None:
    """The existing contact this client is: by channel identity, then phone, then e-mail."""
    if identity.contact_id is not None:
        known = owned(Record, identity.contact_id)
        if known is not None and known.deleted_at is None:
            return owned(Record, known.merged_into) if known.merged_into else known
    for kind in ("phone", "email"):
        for f in etype.fields:
            if f.type == kind and values.get(f.name):
                found = records.find_duplicate(etype, f.name, values[f.name])
                if found is not None:
                    return found
    return None


def _contact(etype: EntityType, identity: ContactIdentity, values: dict[str, Any]) -> Record:
    title_field = etype.title if etype.field(etype.title or "") else None
    if title_field and not values.get(title_field):
        # A client with no name on the channel (an SMS) is called by what we know of them.
        known = [identity.display_name, *(str(v) for k, v in values.items() if k in ("phone", "email") and v)]
        values = {**values, title_field: next((k for k in known if k), identity.external_user_id)}
    found = match_contact(etype, identity, values)
    if found is None:
        return records.create(etype.name, values)
    fresh = {k: v for k, v in values.items() if v not in (None, "") and not (found.data or {}).get(k)}
    if fresh:
        records.update(etype.name, found.id, fresh)
    return found


def _transcript(conversation: Conversation) -> list[dict[str, str]]:
    rows = db.session.scalars(
        db.select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.created_at, Message.id)
    )
    return [{"author": m.author, "text": m.text, "at": m.created_at.isoformat()} for m in rows]


def complete(conversation: Conversation, identity: ContactIdentity, definition: dict[str, Any]) -> None:
    """Create the flow's records from the answers; on a refusal keep the reason instead."""
    aliases = [alias for alias, _type in flows.records(definition)]
    if not aliases:
        return
    channel = owned(Channel, conversation.channel_id)
    assert channel is not None
    savepoint = db.session.begin_nested()
    try:
        with acting_as(BOT):
            made = _create_records(conversation, identity, definition, channel)
        savepoint.commit()
    except (ValidationError, NotFound) as exc:
        savepoint.rollback()
        conversation.error = _describe(exc)
        log.info("bot flow %s could not create its records: %s", definition.get("key"), conversation.error)
        return
    lead_alias = aliases[-1]
    lead = made[lead_alias]
    conversation.lead_type = lead.entity_type
    conversation.lead_id = lead.id
    conversation.completed_at = utcnow()
    conversation.error = None
    outbox.emit(
        "conversation.completed",
        entity_type=lead.entity_type,
        record_id=lead.id,
        conversation_id=str(conversation.id),
        channel=channel.kind,
        answers=conversation.answers,
        contact_id=str(made[aliases[0]].id),
    )


def _create_records(
    conversation: Conversation, identity: ContactIdentity, definition: dict[str, Any], channel: Channel
) -> dict[str, Record]:
    types = dict(flows.records(definition))
    values = _by_alias(definition, conversation.answers or {})
    aliases = list(types)
    made: dict[str, Record] = {}
    for index, alias in enumerate(aliases):
        etype = registry.entity_type(types[alias])
        own = _fitting(etype, values.get(alias, {}))
        if index == 0 and len(aliases) > 1:
            made[alias] = contact = _contact(etype, identity, own)
            identity.contact_type, identity.contact_id = contact.entity_type, contact.id
            continue
        if index == len(aliases) - 1:
            own = {**_source_values(etype, conversation, channel), **own}
        made[alias] = records.create(etype.name, own)
    for source, role, target in definition.get("links") or []:
        # A link names a relation role, or a reference field of the source (a contact's company).
        field = registry.entity_type(types[source]).field(role)
        if field is not None and field.type == "reference":
            records.update(types[source], made[source].id, {role: str(made[target].id)})
        else:
            relations.relate(types[source], made[source].id, role, made[target].id)
    lead = made[aliases[-1]]
    db.session.add(Activity(
        record_id=lead.id,
        kind="conversation",
        changes={
            "conversation_id": str(conversation.id),
            "channel": channel.kind,
            "source": conversation.source,
            "answers": conversation.answers,
            "transcript": _transcript(conversation),
        },
    ))
    return made


def _describe(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    if isinstance(messages, dict):
        return "; ".join(
            f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in messages.items()
        )
    return str(exc) or type(exc).__name__



def on_event(event: OutboxEvent) -> None:
    """The subscriber: create the records of a conversation whose answers are all in."""
    if event.kind != "conversation.answered":
        return
    conversation = owned(Conversation, uuid.UUID(str((event.payload or {}).get("conversation_id"))))
    if conversation is None or conversation.completed_at is not None:
        return
    identity = owned(ContactIdentity, conversation.identity_id)
    from twofold.channels.conversations import flow_definition

    definition = flow_definition(conversation.flow_key)
    if identity is None or definition is None:
        conversation.error = "The bot flow of this conversation no longer exists."
        return
    complete(conversation, identity, definition)
