"""How the inbound flow is served, measured in SQL over the conversations.

* Speed to lead: from the client's first message to the first reply of a person (the
  bot's answers do not count): the median, and the share answered within five minutes.
* Bot completion rate: of the conversations a flow ran on, the share where the bot got
  every answer and the lead was created.
* Hand-off rate: the share of conversations the bot passed to people (its flow done, or a
  manager took over).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, select

from twofold.auth.permissions import require
from twofold.channels.models import Channel, Conversation
from twofold.db import db

FAST_SECONDS = 300


@dataclass(frozen=True)
class ConversationStats:
    conversations: int
    with_flow: int
    completed: int
    handed_off: int
    answered_by_person: int
    median_speed_to_lead_seconds: float | None
    answered_within_5_minutes: float | None  # a share of those answered by a person
    completion_rate: float | None
    handoff_rate: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _seconds_between(start: Any, end: Any) -> Any:
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _median(values: Any, where: list[Any]) -> float | None:
    """The median of a SQL expression, computed by the database."""
    if db.engine.dialect.name == "postgresql":
        median = func.percentile_cont(0.5).within_group(values)
        return db.session.scalar(select(median).where(*where))
    # SQLite has no percentile: the middle one or two of the ordered values.
    count = db.session.scalar(select(func.count()).where(*where)) or 0
    if not count:
        return None
    middle = (
        select(values.label("v")).where(*where).order_by(values).limit(2 - count % 2).offset((count - 1) // 2)
    )
    return db.session.scalar(select(func.avg(middle.subquery().c.v)))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def compute(since: datetime | None = None, until: datetime | None = None, channel: str | None = None
            ) -> ConversationStats:
    """Figures over the conversations started in ``[since, until)``, on one channel kind or all."""
    require("conversations.view")
    where: list[Any] = []
    if since is not None:
        where.append(Conversation.started_at >= since)
    if until is not None:
        where.append(Conversation.started_at < until)
    if channel:
        where.append(Conversation.channel_id.in_(select(Channel.id).where(Channel.kind == channel)))
    speed = _seconds_between(Conversation.started_at, Conversation.first_human_reply_at)

    def counted(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        select(
            func.count(),
            counted(Conversation.flow_key.is_not(None)),
            counted(Conversation.completed_at.is_not(None)),
            counted(Conversation.handed_off_at.is_not(None)),
            counted(Conversation.first_human_reply_at.is_not(None)),
            counted(Conversation.first_human_reply_at.is_not(None) & (speed <= FAST_SECONDS)),
        ).where(*where)
    ).one()
    total, with_flow, completed, handed_off, answered, fast = (int(v or 0) for v in row)
    median = _median(cast(speed, Float), [*where, Conversation.first_human_reply_at.is_not(None)])
    return ConversationStats(
        conversations=total,
        with_flow=with_flow,
        completed=completed,
        handed_off=handed_off,
        answered_by_person=answered,
        median_speed_to_lead_seconds=round(float(median), 1) if median is not None else None,
        answered_within_5_minutes=_ratio(fast, answered),
        completion_rate=_ratio(completed, with_flow),
        handoff_rate=_ratio(handed_off, total),
    )


__all__ = ["FAST_SECONDS", "ConversationStats", "compute"]
