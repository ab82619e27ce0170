"""Metric and dashboard definitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Aggregate = Literal["count", "sum", "avg", "min", "max"]


@dataclass(frozen=True)
class MetricSpec:
    """An aggregation over one entity type's records, computed in SQL.

    ``column`` is a typed column of the records table (``amount``) for sum/avg/min/max;
    ``where`` filters on typed columns or fields (``{"status": "won"}``); ``group_by`` is
    a typed column or ``stage``.
    """

    name: str
    label: str
    entity_type: str
    aggregate: Aggregate = "count"
    column: str | None = None
    where: dict[str, Any] = field(default_factory=dict)
    group_by: str | None = None


@dataclass(frozen=True)
class DashboardSpec:
    key: str
    name: str
    metrics: tuple[str, ...]
