"""Channel, integration and bot-flow definitions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChannelSpec:
    """A messaging channel: ``send(config, to, text)`` delivers a reply on it."""

    name: str
    label: str
    send: Callable[[dict[str, Any], str, str], None] | None = None


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
    key: str
    question: str
    input: str = "text"  # text, choice, email, phone, number
    choices: tuple[str, ...] = ()
    target_field: str | None = None


@dataclass(frozen=True)
class BotFlowSpec:
    key: str
    name: str
    entity_type: str
    steps: tuple[BotStep, ...]
