"""Automation building blocks as data. The rule engine that runs them reads these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ActionContext:
    """What an action gets when it runs: the tenant is already in scope."""

    record_id: Any
    entity_type: str
    params: dict[str, Any]
    # A key unique to this run of this action: an action that may run twice (a retried
    # job) uses it to do its work only once.
    idempotency_key: str


@dataclass(frozen=True)
class ActionSpec:
    """An automation action: ``run(ctx)`` does the work and returns a short result text."""

    name: str
    label: str
    run: Callable[[ActionContext], str | None]
    params: dict[str, str] = field(default_factory=dict)  # param name -> field type
    pack: str = ""  # filled in by the core: the plugin that registered the action
    # Optional: params -> errors by param name (empty when fine), run when a rule using the
    # action is saved, so a bad param is a field error then rather than a failed run later.
    check_params: Callable[[dict[str, Any]], dict[str, list[str]]] | None = None


@dataclass(frozen=True)
class TriggerSpec:
    """A kind of trigger: an event type (``record.created``) or a named condition."""

    name: str
    label: str
    event: str = ""


@dataclass(frozen=True)
class RuleTemplate:
    """A ready-made rule a pack switches on when a tenant enables it."""

    key: str
    name: str
    trigger: str
    actions: tuple[dict[str, Any], ...]
    conditions: tuple[dict[str, Any], ...] = ()
    entity_type: str = ""
