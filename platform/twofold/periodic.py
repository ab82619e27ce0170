"""Periodic jobs, as data, run by RQ's cron scheduler (``twofold scheduler``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from rq.cron import CronScheduler

from twofold import jobs
from twofold.auth.models import Invitation
from twofold.db import db, utcnow
from twofold.tenancy.scope import unscoped


@dataclass(frozen=True)
class PeriodicJob:
    func: Callable[[], object]
    interval_seconds: int


def purge_expired_invitations() -> int:
    """Drop invitations that expired unused; platform housekeeping over all tenants."""
    with unscoped("housekeeping across all tenants"):
        result = db.session.execute(
            db.delete(Invitation).where(Invitation.expires_at < utcnow(), Invitation.accepted_at.is_(None))
        )
        db.session.commit()
    return result.rowcount


def sweep_outbox() -> int:
    """Relay events that a crash or a Redis outage left in the outbox."""
    from twofold.events import outbox

    return outbox.sweep()


def sweep_automations() -> int:
    """Fire "no activity for N minutes" and scheduled automation rules."""
    from twofold.automations import engine

    return engine.sweep()


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob(purge_expired_invitations, interval_seconds=3600),
    PeriodicJob(sweep_outbox, interval_seconds=30),
    PeriodicJob(sweep_automations, interval_seconds=60),
]


def build_scheduler(connection: Redis) -> CronScheduler:
    cron = CronScheduler(connection=connection)
    for periodic in PERIODIC_JOBS:
        cron.register(
            jobs.run_job,
            queue_name=jobs.DEFAULT_QUEUE,
            args=(
                {
                    "func": f"{periodic.func.__module__}:{periodic.func.__qualname__}",
                    "tenant_id": None,
                    "actor": None,
                    "args": [],
                    "kwargs": {},
                },
            ),
            interval=periodic.interval_seconds,
            name=periodic.func.__name__,
        )
    return cron
