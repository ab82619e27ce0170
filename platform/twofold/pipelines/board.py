"""What a kanban board of one pipeline shows: its stages as columns, each with the count
and the sum of the amount of its records, and the first cards.

Totals are one grouped query for the whole board; the cards of a column are one keyset
page of :func:`twofold.entities.query.list_records`, so "load more" costs what the first
page does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func

from twofold.auth.permissions import require
from twofold.db import db
from twofold.entities.columns import field_expr
from twofold.entities.meta import EntityType, Field
from twofold.entities.models import Record
from twofold.entities.query import list_records
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.pipelines.models import Pipeline, Stage
from twofold.pipelines.service import get_pipeline, stages

CARD_SORT = "-updated_at"


@dataclass(frozen=True)
class Totals:
    count: int
    amount: Decimal | None


@dataclass(frozen=True)
class Column:
    stage: Stage
    totals: Totals
    cards: list[Record]
    next_cursor: str | None


@dataclass(frozen=True)
class Board:
    pipeline: Pipeline
    entity_type: EntityType
    amount_field: Field | None
    columns: list[Column]


def amount_field(etype: EntityType) -> Field | None:
    """The field a board sums: the one stored in the ``amount`` column, else the first money field."""
    by_column = next((f for f in etype.fields if f.column == "amount"), None)
    return by_column or next((f for f in etype.fields if f.type == "money"), None)


def totals(pipeline: Pipeline, etype: EntityType) -> dict[uuid.UUID, Totals]:
    """Count and amount per stage, in one query."""
    require("records.view")
    money = amount_field(etype)
    selected = [Record.stage_id, func.count()]
    if money is not None:
        selected.append(func.sum(field_expr(money, db.engine.dialect.name)))
    rows = db.session.execute(
        db.select(*selected)
        .where(
            Record.pipeline_id == pipeline.id,
            Record.entity_type == pipeline.entity_type,
            Record.deleted_at.is_(None),
            Record.merged_into.is_(None),
        )
        .group_by(Record.stage_id)
    )
    out = {}
    for row in rows:
        stage_id, count, total = row[0], row[1], (row[2] if money is not None else None)
        if total is not None and not isinstance(total, Decimal):
            total = Decimal(str(total))
        out[stage_id] = Totals(count, total.quantize(Decimal("0.01")) if total is not None else None)
    return out


def cards(
    pipeline: Pipeline, stage: Stage, *, limit: int, cursor: str | None = None
) -> tuple[list[Record], str | None]:
    if stage.pipeline_id != pipeline.id:
        raise NotFound(str(stage.id))
    page = list_records(
        pipeline.entity_type, params={"stage_id": str(stage.id)}, sort=CARD_SORT, limit=limit, cursor=cursor
    )
    return page.records, page.next_cursor


def board(pipeline_id: uuid.UUID, *, limit: int) -> Board:
    require("records.view")
    pipeline = get_pipeline(pipeline_id)
    etype = registry.entity_type(pipeline.entity_type)
    sums = totals(pipeline, etype)
    columns = []
    for stage in stages(pipeline):
        records, cursor = cards(pipeline, stage, limit=limit)
        columns.append(Column(stage, sums.get(stage.id, Totals(0, None)), records, cursor))
    return Board(pipeline, etype, amount_field(etype), columns)


def stage_of(pipeline: Pipeline, stage_id: uuid.UUID) -> Stage:
    stage = next((s for s in stages(pipeline) if s.id == stage_id), None)
    if stage is None:
        raise NotFound(str(stage_id))
    return stage
