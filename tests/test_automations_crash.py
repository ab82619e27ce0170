"""A worker killed with SIGKILL in the middle of a rule's actions: the rerun does the rest, once.

The worker is the production one (``twofold worker`` in its own process, forking a work
horse per job). Its second action calls a webhook that answers slowly; the test kills the
worker and its work horse while that request is in flight, lets RQ's abandoned-job handling
(the StartedJobRegistry cleanup) put the job back, and runs a fresh worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from flask import Flask
from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from tests.support.crm import Api
from tests.support.factories import signup
from twofold.automations import engine
from twofold.automations.models import ActionRun, RuleRun
from twofold.db import db
from twofold.entities.models import Activity
from twofold.tenancy.scope import tenant_scope

ROOT = Path(__file__).resolve().parents[1]


class _SlowHook(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        _SlowHook.received.append(self.headers.get("Idempotency-Key"))
        if len(_SlowHook.received) == 1:
            time.sleep(5)  # the worker is killed while it waits for this answer
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _worker(app: Flask) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "twofold"), "worker", "--burst"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _run_hex(app: Flask, tenant) -> str:
    with app.app_context(), tenant_scope(tenant.tenant_id):
        return db.session.scalar(db.select(RuleRun.id)).hex


def test_a_killed_action_job_resumes_and_acts_once(app: Flask) -> None:
    _SlowHook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        acme = signup(app, "acme")
        api = Api(app, acme)
        assert api.post("/packs/example/enable").status_code == 200
        rule = api.post("/automations/rules", json={
            "name": "three steps", "entity_type": "ticket",
            "trigger": {"type": "event", "event": "record.created"},
            "actions": [
                {"type": "set_field", "params": {"field": "resolution", "value": "step one"}},
                {"type": "call_webhook", "params": {"url": url}},
                {"type": "example.escalate", "params": {}},
            ],
        })
        assert rule.status_code == 201, rule.get_json()
        ticket = api.create("ticket", subject="Printer on fire")

        worker = _worker(app)
        deadline = time.monotonic() + 60
        while not _SlowHook.received and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert _SlowHook.received, "the worker never reached the webhook"
        time.sleep(0.3)
        # The worker and its work horse (RQ puts the horse in a session of its own), mid-action.
        for pid in [*_children(worker.pid), worker.pid]:
            os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=10)
        time.sleep(0.2)

        with app.app_context(), tenant_scope(acme.tenant_id):
            done = db.session.scalars(db.select(ActionRun.index).order_by(ActionRun.index)).all()
            assert done == [0]  # the first action committed with its row; the second did not
            db.session.rollback()

        # RQ's abandoned-job handling: the expired entry is retried (it has retries left).
        with app.app_context():
            connection = app.extensions["twofold.redis"]
            started = StartedJobRegistry(engine.QUEUE, connection=connection)
            assert started.get_expired_job_ids(time.time() + 86400)
            started.cleanup(time.time() + 86400)
            scheduled = ScheduledJobRegistry(engine.QUEUE, connection=connection)
            queue = Queue(engine.QUEUE, connection=connection)
            for job_id in scheduled.get_job_ids():  # the retry's backoff, skipped
                queue.enqueue_job(queue.fetch_job(job_id))
                scheduled.remove(job_id)
            # Once or (when the cleanup and the scheduler both put it back) twice: either way
            # the actions already done are skipped and the rest done once.
            expected = {f"rule-run-{_run_hex(app, acme)}"}
            assert {job_id.rsplit("-", 1)[0] for job_id in queue.job_ids} == expected

        rerun = _worker(app)
        assert rerun.wait(timeout=120) == 0

        with app.app_context(), tenant_scope(acme.tenant_id):
            rows = db.session.scalars(db.select(ActionRun).order_by(ActionRun.index)).all()
            assert [(r.index, r.status) for r in rows] == [(0, "ok"), (1, "ok"), (2, "ok")]
            run = db.session.scalar(db.select(RuleRun))
            assert run.status == "ok"
            changes = [
                a.changes for a in db.session.scalars(
                    db.select(Activity).where(Activity.record_id == uuid.UUID(ticket["id"]),
                                              Activity.kind == "updated")
                )
            ]
            assert sum("resolution" in c for c in changes) == 1, json.dumps(changes, default=str)
            assert sum("priority" in c for c in changes) == 1, json.dumps(changes, default=str)
        # The webhook was in flight when the worker died: it is sent again, with the same key.
        assert len(_SlowHook.received) == 2
        assert _SlowHook.received[0] == _SlowHook.received[1]
        record = api.get(f"/records/ticket/{ticket['id']}").get_json()
        assert record["resolution"] == "step one" and record["priority"] == "high"
    finally:
        server.shutdown()
