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
    """An outside system (ERP, accounting, ad cabinet) with its settings' field types."""

    name: str
    label: str
    settings: dict[str, str] = field(default_factory=dict)


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
