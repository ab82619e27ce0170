"""Emitting events into the outbox, relaying them to RQ after commit, sweeping leftovers.

The relay uses the event id as the RQ job id and skips an id that Redis already holds, so
the after-commit relay and the sweep do not queue one event twice; the handler also checks
``handled_at`` under a row lock, so even a second delivery does nothing twice. If Redis is
down at commit time the write still succeeds: the event waits in the database for the sweep.

``dispatched_at`` is set by the handler (in the transaction of its effects) or by the sweep
when it finds the job already on Redis, not by the relay: marking every relayed batch cost
each write a second transaction (a commit and its fsync; a third of a rule job's time in
benchmarks/automation_throughput.py). So an event is "waiting" until it is handled or seen
queued, and the sweep also re-sends an event whose job Redis lost.
"""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from rq.job import Job
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from twofold.auth.permissions import maybe_current_actor
from twofold.db import db, new_id, utcnow
from twofold.events.models import OutboxEvent
from twofold.tenancy.scope import tenant_scope, unscoped

log = logging.getLogger(__name__)

_PENDING = "twofold_pending_events"
EVENTS_QUEUE = "events"
# The sweep leaves fresh events to the after-commit relay.
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_BATCH = 1000
# Extra payload for the events emitted in this context: the rule engine marks what its
# actions cause ({"automation": {"rule": ..., "depth": n}}) so that rules cannot loop.
CAUSE: ContextVar[dict[str, Any] | None] = ContextVar("twofold_event_cause", default=None)


def emit(
    kind: str, *, entity_type: str | None = None, record_id: uuid.UUID | None = None, **payload: Any
) -> OutboxEvent:
    """Add an event to the current transaction; it exists only if the change commits."""
    actor = maybe_current_actor()
    cause = CAUSE.get()
    if cause:
        payload = {**payload, **cause}
    event = OutboxEvent(
        kind=kind,
        entity_type=entity_type,
        record_id=record_id,
        actor_id=actor.user_id if actor else None,
        payload=payload,
    )
    event.id = new_id()  # known before the flush, so the relay can name the job
    db.session.add(event)
    db.session.info.setdefault(_PENDING, []).append((event.tenant_id, event.id))
    return event


def job_id(event_id: uuid.UUID) -> str:
    return f"event-{event_id}"


def _enqueue(connection: Any, tenant_id: uuid.UUID, event_id: uuid.UUID) -> bool:
    """Queue the handler for one event unless Redis already holds its job."""
    from rq import Queue

    from twofold.events.handler import handle_event

    jid = job_id(event_id)
    if Job.exists(jid, connection=connection):
        return False
    Queue(EVENTS_QUEUE, connection=connection).enqueue(
        handle_event, str(tenant_id), str(event_id), job_id=jid, result_ttl=3600, failure_ttl=7 * 86400
    )
    return True


def _mark_dispatched(ids: list[uuid.UUID]) -> None:
    if not ids:
        return
    with unscoped("marking relayed events; ids are the tenant-owned rows just committed"):
        db.session.execute(
            db.update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(dispatched_at=utcnow())
        )
        db.session.commit()


def _relay_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released; the events wait for the real commit
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    from twofold.redis_conn import get_redis

    try:
        _enqueue_fresh(get_redis(), pending)
    except Exception as exc:  # Redis down: the events wait in the outbox for the sweep
        log.warning("%d events left for the sweep: %s", len(pending), exc)


def _enqueue_fresh(connection: Any, pending: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Queue the events a commit just wrote, in one round trip to Redis.

    No existence check: their jobs cannot be there yet (the sweep leaves events younger than
    its grace alone), and a second copy would find the event handled and stop.
    """
    from rq import Queue

    from twofold.events.handler import handle_event

    queue = Queue(EVENTS_QUEUE, connection=connection)
    queue.enqueue_many([
        Queue.prepare_data(
            handle_event, (str(tenant_id), str(event_id)), job_id=job_id(event_id),
            result_ttl=3600, failure_ttl=7 * 86400,
        )
        for tenant_id, event_id in pending
    ])


def _drop_pending(session: Session, _previous: Any = None) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    if not sa_event.contains(Session, "after_commit", _relay_after_commit):
        sa_event.listen(Session, "after_commit", _relay_after_commit)
        sa_event.listen(Session, "after_soft_rollback", _drop_pending)


def sweep(grace: timedelta = SWEEP_GRACE) -> int:
    """Relay events a crash or a Redis outage left behind; returns how many were queued."""
    from twofold.redis_conn import get_redis

    connection = get_redis()
    cutoff = utcnow() - grace
    with unscoped("the outbox sweep covers every tenant"):
        rows = db.session.execute(
            db.select(OutboxEvent.tenant_id, OutboxEvent.id)
            .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.created_at <= cutoff)
            .order_by(OutboxEvent.created_at)
            .limit(SWEEP_BATCH)
        ).all()
        db.session.rollback()
    queued, seen = 0, []
    for tenant_id, event_id in rows:
        if _enqueue(connection, tenant_id, event_id):
            queued += 1
        seen.append(event_id)
    _mark_dispatched(seen)
    return queued


def pending_count(tenant_id: uuid.UUID) -> int:
    with tenant_scope(tenant_id):
        return db.session.scalar(
            db.select(db.func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
        )
