"""Computing a registered metric in SQL: one aggregate query, never a loop over rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func

from twofold.auth.permissions import require
from twofold.db import db
from twofold.entities.columns import TYPED, field_expr
from twofold.entities.models import Record
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.pipelines.models import Stage

AGGREGATES = {"count": func.count, "sum": func.sum, "avg": func.avg, "min": func.min, "max": func.max}


class UnknownMetric(NotFound):
    pass


@dataclass(frozen=True)
class MetricResult:
    name: str
    label: str
    value: Any
    groups: list[tuple[str, Any]] | None = None


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def compute(name: str, *, since: dt.datetime | None = None, until: dt.datetime | None = None) -> MetricResult:
    require("records.view")
    tenant_registry = registry.current()
    spec = tenant_registry.metrics.get(name)
    if spec is None:
        tenant_registry.raise_failure()  # the metric may belong to a pack that failed
        raise UnknownMetric(name)
    etype = registry.entity_type(spec.entity_type)
    dialect = db.engine.dialect.name
    if spec.aggregate == "count":
        measure = func.count(Record.id)
    else:
        column = TYPED.get(spec.column or "") if spec.column in TYPED else None
        if column is None:
            f = etype.field(spec.column or "")
            if f is None:
                raise UnknownMetric(f"{name}: no column {spec.column!r}")
            column = field_expr(f, dialect)
        measure = AGGREGATES[spec.aggregate](column)
    conditions = [Record.entity_type == etype.name, Record.deleted_at.is_(None), Record.merged_into.is_(None)]
    for key, wanted in spec.where.items():
        if key == "stage_kind":
            conditions.append(Record.stage_id.in_(db.select(Stage.id).where(Stage.kind == wanted)))
            continue
        f = etype.field(key)
        expr = TYPED.get(key) if key in TYPED else (field_expr(f, dialect) if f else None)
        if expr is None:
            raise UnknownMetric(f"{name}: no field {key!r}")
        conditions.append(expr.in_(wanted) if isinstance(wanted, list | tuple) else expr == wanted)
    if since is not None:
        conditions.append(Record.created_at >= since)
    if until is not None:
        conditions.append(Record.created_at < until)
    if spec.group_by == "stage":
        rows = db.session.execute(
            db.select(Stage.name, measure)
            .select_from(Record)
            .join(Stage, Stage.id == Record.stage_id)
            .where(*conditions)
            .group_by(Stage.name, Stage.position)
            .order_by(Stage.position)
        ).all()
        groups = [(str(label), _number(value)) for label, value in rows]
        return MetricResult(name, spec.label, sum(v or 0 for _l, v in groups), groups)
    if spec.group_by:
        f = etype.field(spec.group_by)
        key_expr = (
            TYPED.get(spec.group_by) if spec.group_by in TYPED else field_expr(f, dialect) if f else None
        )
        if key_expr is None:
            raise UnknownMetric(f"{name}: cannot group by {spec.group_by!r}")
        rows = db.session.execute(
            db.select(key_expr, measure).where(*conditions).group_by(key_expr).order_by(key_expr)
        ).all()
        groups = [(str(label) if label is not None else "—", _number(value)) for label, value in rows]
        return MetricResult(name, spec.label, sum(v or 0 for _l, v in groups), groups)
    value = db.session.scalar(db.select(measure).select_from(Record).where(*conditions))
    return MetricResult(name, spec.label, _number(value))
