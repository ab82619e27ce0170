"""Channel, integration and bot-flow definitions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Inbound:
    """One message from a client, as a channel adapter reads it off its platform.

    ``message_id`` is the platform's own id (Telegram's ``update_id``): a re-delivered
    message carries the same one and is stored once. ``address`` is where replies go (a chat
    id), if not the user id. ``source`` holds what the platform says about where the client
    came from: a deep-link payload (``start``), UTM parameters, the referrer, the page.
    ``known`` holds contact details the platform already gives (a shared phone, a widget's
    e-mail field), so the bot need not ask for them.
    """

    user_id: str
    message_id: str
    text: str
    name: str = ""
    address: str | None = None
    source: dict[str, str] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outbound:
    """A reply for a client: text and, for a question with choices, the choices as buttons."""

    text: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelSpec:
    """A messaging channel.

    ``send(config, to, text)`` delivers a reply on it (``config`` is the tenant's settings
    for the channel, secrets included; ``to`` the client's address). A channel whose
    platform posts to us gives ``parse(config, body, headers)``, which turns one request
    into :class:`Inbound` messages (raise ``PermissionError`` to refuse it): it is then
    reachable at ``POST /hooks/channels/<channel id>``. ``respond(address, reply)`` turns the
    bot's reply into that request's response body where the platform reads one (Telegram
    does), so the answer needs no request of its own.
    """

    name: str
    label: str
    send: Callable[[dict[str, Any], str, str], Any] | None = None
    parse: Callable[[dict[str, Any], bytes, dict[str, str]], list[Inbound]] | None = None
    respond: Callable[[str, Outbound], dict[str, Any]] | None = None


@dataclass(frozen=True)
class IntegrationSpec:
    """An outside system (ERP, accounting, ad cabinet) a tenant connects to.

    ``settings_schema`` (a marshmallow ``Schema`` class) validates the tenant's settings; the
    fields named in ``secret_fields`` are stored encrypted and never shown again.
    ``test_connection(settings)`` returns a short human message or raises; ``sync_jobs``
    are functions ``job(settings) -> object`` run as tenant jobs on demand or on a schedule.
    """

    name: str
    label: str
    settings: dict[str, str] = field(default_factory=dict)
    settings_schema: type | None = None
    secret_fields: tuple[str, ...] = ()
    test_connection: Callable[[dict[str, Any]], str] | None = None
    sync_jobs: tuple[Callable[[dict[str, Any]], Any], ...] = ()


@dataclass(frozen=True)
class BotStep:
    """One question of a flow.

    ``target_field`` is ``"<record>.<field>"`` (``"contact.phone"``, ``"deal.amount"``) or a
    bare field of the flow's main record. ``reask`` is said when an answer does not pass
    ``input``'s check. ``next`` is the following step's key, ``"end"``, or for a choice a
    mapping from choice to step key (``"*"`` for any other answer); by default the next step
    in order.
    """

    key: str
    question: str
    input: str = "text"  # text, choice, email, phone, number
    choices: tuple[str, ...] = ()
    target_field: str | None = None
    reask: str | None = None
    next: str | dict[str, str] | None = None


@dataclass(frozen=True)
class BotFlowSpec:
    """A chatbot flow a pack ships; tenants get a copy they can edit.

    ``entity_type`` is the record the flow creates (a lead, a deal); ``records`` names the
    records it fills, alias to type (by default ``{"contact": contact_type, "lead":
    entity_type}``), created in that order with the contact matched, not duplicated;
    ``links`` relate them (``("deal", "initiator", "contact")``: the deal's relation role
    ``initiator`` points at the contact; ``("contact", "company", "company")``: the
    contact's reference field ``company`` is set to the company).
    """

    key: str
    name: str
    entity_type: str
    steps: tuple[BotStep, ...]
    contact_type: str = "contact"
    records: dict[str, str] = field(default_factory=dict)
    links: tuple[tuple[str, str, str], ...] = ()
    greeting: str = "Hello! Let me ask a couple of questions so the right person can help you."
    done: str = "Thank you! A manager has your request and will answer here shortly."
