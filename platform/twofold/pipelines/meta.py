"""Pipelines as data: what a plugin declares; seeded into a tenant's tables on enable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

StageKind = Literal["open", "won", "lost", "on_hold"]
STAGE_KINDS: tuple[str, ...] = StageKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RelationRequirement:
    """A related record with ``role`` must exist, optionally matching ``where`` fields."""

    role: str
    where: dict[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class StageSpec:
    key: str
    name: str
    kind: StageKind = "open"
    probability: int = 0  # percent
    required_fields: tuple[str, ...] = ()
    required_relations: tuple[RelationRequirement, ...] = ()
    requires_reason: bool = False  # a lost or frozen deal says why
    stall_days: int | None = None


@dataclass(frozen=True)
class PipelineSpec:
    key: str
    name: str
    entity_type: str
    stages: tuple[StageSpec, ...]
    default: bool = True
