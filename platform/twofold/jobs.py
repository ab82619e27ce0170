"""Background jobs on RQ that run inside the tenant (and as the user) that queued them.

A job takes ids and plain values, never ORM objects. :func:`enqueue` captures the current
tenant and actor; :func:`run_job` restores them in the worker, inside an app context, and
commits or rolls back the job's writes as one transaction. Jobs queued during a request
are handed to Redis only after the request's transaction commits, so a worker never looks
for a row that is not there yet (and a rolled-back request queues nothing).
"""

from __future__ import annotations

import importlib
import logging
import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from rq import Queue, Retry
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session

from twofold.auth.permissions import Actor, acting_as, maybe_current_actor
from twofold.db import db
from twofold.redis_conn import get_redis
from twofold.tenancy.scope import maybe_current_tenant_id, tenant_scope

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
_PENDING_KEY = "twofold_pending_jobs"


def queue(name: str = DEFAULT_QUEUE) -> Queue:
    return Queue(name, connection=get_redis())


def _describe(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def enqueue(
    func: Callable[..., Any],
    *args: Any,
    queue_name: str = DEFAULT_QUEUE,
    retries: int = 3,
    job_id: str | None = None,
    job_timeout: int | None = None,
    result_ttl: int | None = None,
    delay_seconds: float | None = None,
    **kwargs: Any,
) -> None:
    """Queue ``func(*args, **kwargs)`` to run after the current transaction commits.

    ``job_timeout`` (seconds) lifts RQ's default of 180 for long jobs (an import);
    ``result_ttl`` keeps a finished job, and so its status, readable for that long;
    ``delay_seconds`` schedules the job that much later (``Queue.enqueue_in``; a worker
    started with the scheduler moves it to the queue when due).
    """
    tenant_id = maybe_current_tenant_id()
    actor = maybe_current_actor()
    call = {
        "func": _describe(func),
        "tenant_id": tenant_id.hex if tenant_id else None,
        "actor": {
            "user_id": actor.user_id.hex if actor and actor.user_id else None,
            "role": actor.role if actor else "owner",
        },
        "args": list(args),
        "kwargs": kwargs,
    }
    # Transient failures (an SMTP server restarting, a deadlock) deserve another go, later.
    retry = Retry(max=retries, interval=[10, 60, 300][:retries]) if retries > 0 else None
    options: dict[str, Any] = {"retry": retry, "job_id": job_id}
    if job_timeout is not None:
        options["job_timeout"] = job_timeout
    if result_ttl is not None:
        options["result_ttl"] = result_ttl
    if delay_seconds is not None:  # RQ's scheduler (a worker started with it) enqueues it then
        options["delay_seconds"] = delay_seconds
    session = db.session()
    pending = session.info.setdefault(_PENDING_KEY, [])
    pending.append((queue_name, call, options))


def _flush_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released; the jobs wait for the real commit
    pending = session.info.pop(_PENDING_KEY, [])
    for queue_name, call, options in pending:
        try:
            delay = options.pop("delay_seconds", None)
            if delay is not None:
                queue(queue_name).enqueue_in(timedelta(seconds=delay), run_job, call, **options)
            else:
                queue(queue_name).enqueue(run_job, call, **options)
        except Exception:  # Redis down: the write stands; the job is logged as lost
            log.exception("could not queue %s for tenant %s", call["func"], call["tenant_id"])


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def install() -> None:
    if not event.contains(Session, "after_commit", _flush_pending):
        event.listen(Session, "after_commit", _flush_pending)
        event.listen(Session, "after_soft_rollback", lambda s, t: _drop_pending(s))


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


_worker_app: Flask | None = None
_forked_from: int | None = None


def _app() -> Flask:
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        from twofold.app import create_app

        _worker_app = create_app()
    return _worker_app


def worker_app() -> Flask:
    """The app a job runs in: the current one, or one built once per worker process."""
    return _app()


def after_fork() -> None:
    """A forked work horse must not reuse the parent's database connections."""
    global _forked_from
    if _forked_from != os.getpid():
        db.engine.dispose(close=False)
        _forked_from = os.getpid()


def run_job(call: dict[str, Any]) -> Any:
    """The function RQ runs: restore tenant and actor, call, commit."""
    app = _app()
    with app.app_context():
        after_fork()
        func = _resolve(call["func"])
        actor_data = call.get("actor") or {}
        actor = Actor(
            user_id=uuid.UUID(actor_data["user_id"]) if actor_data.get("user_id") else None,
            role=actor_data.get("role", "owner"),
            via="job",
        )
        tenant = call.get("tenant_id")
        try:
            with acting_as(actor):
                if tenant:
                    with tenant_scope(uuid.UUID(tenant)):
                        result = func(*call["args"], **call["kwargs"])
                        db.session.commit()
                else:
                    result = func(*call["args"], **call["kwargs"])
                    db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def job_call(job: Job) -> dict[str, Any]:
    """The call a twofold job carries (for tests and the admin's failed-jobs list)."""
    return job.args[0]
