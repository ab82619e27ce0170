"""Running RQ's scheduled retries now, in tests."""

from __future__ import annotations

from flask import Flask
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry


def bring_retries_forward(app: Flask, queue_name: str) -> int:
    """Enqueue now the retries RQ's scheduler would enqueue later; returns how many.

    A worker with the scheduler would do the same when their time comes (hours, on the real
    schedule); a test checks the schedule was set, then moves the jobs forward.
    """
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        queue = Queue(queue_name, connection=connection)
        registry = ScheduledJobRegistry(queue=queue)
        ids = registry.get_job_ids()
        for job_id in ids:
            registry.remove(job_id)
            queue.enqueue_job(Job.fetch(job_id, connection=connection))
        return len(ids)
