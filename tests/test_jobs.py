"""Background jobs carry the tenant and the acting user, and run inside that tenant's scope.

The worker here is the production one: ``twofold worker --burst`` in its own process,
forking a work horse per job, against the same database and Redis as the test app.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask

from tests.support import jobs_fixture
from tests.support.factories import signup
from twofold import jobs
from twofold.auth.models import SecurityEvent
from twofold.auth.permissions import Actor, acting_as
from twofold.db import db
from twofold.tenancy.scope import tenant_scope, unscoped

ROOT = Path(__file__).resolve().parents[1]


def _run_worker(app: Flask) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "twofold"), "worker", "--burst"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def _job_events(tenant_id) -> list[SecurityEvent]:
    with tenant_scope(tenant_id):
        return list(db.session.scalars(db.select(SecurityEvent).where(SecurityEvent.kind == "test.job")))


def test_a_job_runs_as_the_tenant_and_user_that_queued_it(app: Flask) -> None:
    acme, globex = signup(app, "acme"), signup(app, "globex")
    with app.app_context():
        with tenant_scope(acme.tenant_id), acting_as(Actor(acme.user_id, "owner", via="web")):
            jobs.enqueue(jobs_fixture.record_context, "from-acme")
            db.session.commit()  # jobs leave only once the transaction that queued them commits
        with tenant_scope(globex.tenant_id), acting_as(Actor(globex.user_id, "agent", via="web")):
            jobs.enqueue(jobs_fixture.record_context, "from-globex")
            db.session.commit()

    result = _run_worker(app)
    assert result.returncode == 0, result.stderr[-2000:]

    with app.app_context():
        acme_events, globex_events = _job_events(acme.tenant_id), _job_events(globex.tenant_id)
        assert [(e.detail["label"], e.user_id, e.detail["role"], e.detail["via"]) for e in acme_events] == [
            ("from-acme", acme.user_id, "owner", "job")
        ]
        assert [(e.detail["label"], e.user_id, e.detail["role"]) for e in globex_events] == [
            ("from-globex", globex.user_id, "agent")
        ]


def test_a_rolled_back_transaction_queues_nothing(app: Flask) -> None:
    acme = signup(app, "acme")
    with app.app_context():
        with tenant_scope(acme.tenant_id), acting_as(Actor(acme.user_id, "owner")):
            jobs.enqueue(jobs_fixture.record_context, "never")
            db.session.rollback()
        assert jobs.queue().count == 0


def test_a_failing_job_keeps_its_tenant_and_lands_in_the_failed_registry(app: Flask) -> None:
    from rq import SimpleWorker

    acme = signup(app, "acme")
    with app.app_context():
        with tenant_scope(acme.tenant_id), acting_as(Actor(acme.user_id, "owner")):
            jobs.enqueue(jobs_fixture.fail_always, "boom", retries=0)
            db.session.commit()
        queue = jobs.queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        failed = queue.failed_job_registry
        assert failed.count == 1
        job = queue.fetch_job(failed.get_job_ids()[0])
        assert jobs.job_call(job)["tenant_id"] == acme.tenant_id.hex
        assert "failed on purpose" in job.latest_result().exc_string
        with unscoped("the failed job wrote nothing anywhere"):
            assert db.session.scalar(
                db.select(db.func.count()).select_from(SecurityEvent).where(SecurityEvent.kind == "test.job")
            ) == 0
