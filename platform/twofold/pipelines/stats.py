"""Time in stage, conversion between stages and cycle length, computed from the history.

Each figure is one SQL query over ``stage_changes``: a window function pairs every entry
into a stage with the next move of the same record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, literal
from sqlalchemy.sql.elements import ColumnElement

from twofold.auth.permissions import require
from twofold.db import db, utcnow
from twofold.entities.models import Record
from twofold.pipelines.models import Stage, StageChange
from twofold.pipelines.service import get_pipeline, stages


@dataclass(frozen=True)
class StageStats:
    stage_id: uuid.UUID
    key: str
    name: str
    kind: str
    entered: int  # records that reached this stage or a later open one
    current: int  # records in it now
    avg_hours: float | None  # average time spent in it, finished stays and current ones
    conversion: float | None  # share of this stage's records that went on to the next stage


def _seconds_between(start: ColumnElement, end: ColumnElement) -> ColumnElement:
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def pipeline_stats(pipeline_id: uuid.UUID) -> list[StageStats]:
    require("records.view")
    pipeline = get_pipeline(pipeline_id)
    stage_rows = stages(pipeline)
    now = utcnow()
    live = db.select(Record.id).where(Record.deleted_at.is_(None), Record.merged_into.is_(None))
    entries = (
        db.select(
            StageChange.record_id,
            StageChange.to_stage_id.label("stage_id"),
            StageChange.at.label("entered_at"),
            func.lead(StageChange.at)
            .over(partition_by=StageChange.record_id, order_by=StageChange.at)
            .label("left_at"),
        )
        .where(StageChange.pipeline_id == pipeline.id, StageChange.record_id.in_(live))
        .subquery()
    )
    left = func.coalesce(entries.c.left_at, literal(now, StageChange.__table__.c.at.type))
    durations = dict(
        db.session.execute(
            db.select(entries.c.stage_id, func.avg(_seconds_between(entries.c.entered_at, left))).group_by(
                entries.c.stage_id
            )
        ).all()
    )
    # The furthest open stage each record reached (won/lost/on-hold are counted on their own).
    reached = (
        db.select(StageChange.record_id, func.max(Stage.position).label("furthest"))
        .join(Stage, Stage.id == StageChange.to_stage_id)
        .where(StageChange.pipeline_id == pipeline.id, StageChange.record_id.in_(live), Stage.kind == "open")
        .group_by(StageChange.record_id)
        .subquery()
    )
    furthest = dict(
        db.session.execute(db.select(reached.c.furthest, func.count()).group_by(reached.c.furthest)).all()
    )
    ever = dict(
        db.session.execute(
            db.select(StageChange.to_stage_id, func.count(func.distinct(StageChange.record_id)))
            .where(StageChange.pipeline_id == pipeline.id, StageChange.record_id.in_(live))
            .group_by(StageChange.to_stage_id)
        ).all()
    )
    current = dict(
        db.session.execute(
            db.select(Record.stage_id, func.count())
            .where(
                Record.pipeline_id == pipeline.id, Record.deleted_at.is_(None), Record.merged_into.is_(None)
            )
            .group_by(Record.stage_id)
        ).all()
    )
    open_stages = [s for s in stage_rows if s.kind == "open"]
    out = []
    for stage in stage_rows:
        if stage.kind == "open":
            entered = sum(n for pos, n in furthest.items() if pos is not None and pos >= stage.position)
        else:
            entered = ever.get(stage.id, 0)
        out.append([stage, entered])
    result = []
    for stage, entered in out:
        conversion = None
        if stage.kind == "open" and entered:
            later_open = [s for s in open_stages if s.position > stage.position]
            if later_open:
                nxt = next(e for s, e in out if s.id == later_open[0].id)
                conversion = round(nxt / entered, 4)
            else:
                won = sum(e for s, e in out if s.kind == "won")
                conversion = round(won / entered, 4)
        seconds = durations.get(stage.id)
        result.append(
            StageStats(
                stage_id=stage.id,
                key=stage.key,
                name=stage.name,
                kind=stage.kind,
                entered=entered,
                current=current.get(stage.id, 0),
                avg_hours=round(float(seconds) / 3600, 2) if seconds is not None else None,
                conversion=conversion,
            )
        )
    return result


def cycle_days(pipeline_id: uuid.UUID) -> float | None:
    """Average days from a record's first entry into the pipeline to its win or loss."""
    require("records.view")
    pipeline = get_pipeline(pipeline_id)
    first = (
        db.select(StageChange.record_id, func.min(StageChange.at).label("started"))
        .where(StageChange.pipeline_id == pipeline.id)
        .group_by(StageChange.record_id)
        .subquery()
    )
    closed = (
        db.select(StageChange.record_id, func.max(StageChange.at).label("closed"))
        .join(Stage, Stage.id == StageChange.to_stage_id)
        .where(StageChange.pipeline_id == pipeline.id, Stage.kind.in_(("won", "lost")))
        .group_by(StageChange.record_id)
        .subquery()
    )
    seconds = db.session.scalar(
        db.select(func.avg(_seconds_between(first.c.started, closed.c.closed)))
        .select_from(first)
        .join(closed, closed.c.record_id == first.c.record_id)
    )
    return round(float(seconds) / 86400, 2) if seconds is not None else None
