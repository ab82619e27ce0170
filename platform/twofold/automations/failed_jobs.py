"""The current tenant's failed jobs, as the admin sees them, and their retry.

RQ's failed registries are shared by every tenant: a job is the tenant's when the call it
carries (:func:`twofold.jobs.enqueue`) names the tenant. Another tenant's job id is not
found, the same as an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rq.job import Job
from rq.registry import FailedJobRegistry

from twofold import jobs
from twofold.auth.permissions import require
from twofold.automations import engine
from twofold.events import outbox
from twofold.exceptions import NotFound
from twofold.redis_conn import get_redis
from twofold.tenancy.scope import current_tenant_id

# The queues whose jobs carry a tenant (webhook deliveries have their own delivery log).
JOB_QUEUES = (outbox.EVENTS_QUEUE, engine.QUEUE, jobs.DEFAULT_QUEUE, "mail")


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    func: str | None
    failed_at: datetime | None
    error: str | None


def _own() -> list[tuple[str, Job]]:
    tenant_hex = current_tenant_id().hex
    connection = get_redis()
    found = []
    for name in JOB_QUEUES:
        registry_ = FailedJobRegistry(name, connection=connection)
        for job in Job.fetch_many(registry_.get_job_ids(), connection=connection):
            if job is None or not job.args:
                continue
            call = job.args[0]
            if isinstance(call, dict) and call.get("tenant_id") == tenant_hex:
                found.append((name, job))
    return found


def own_failed_jobs() -> list[FailedJob]:
    """The tenant's jobs in RQ's failed registries, with the error each ended with."""
    require("automations.manage")
    out = []
    for name, job in _own():
        result = job.latest_result()
        out.append(FailedJob(
            id=job.id, queue=name, func=job.args[0].get("func"), failed_at=job.ended_at,
            error=result.exc_string if result else None,
        ))
    return out


def retry(job_id: str) -> FailedJob:
    """Queue one of the tenant's failed jobs again; :class:`NotFound` if it is not theirs."""
    require("automations.manage")
    for name, job in _own():
        if job.id == job_id:
            FailedJobRegistry(name, connection=get_redis()).requeue(job)
            return FailedJob(id=job.id, queue=name, func=job.args[0].get("func"), failed_at=None, error=None)
    raise NotFound(job_id)
