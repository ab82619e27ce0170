"""Automation rule jobs per second through two workers, against RQ's own empty-job rate.

    .venv/bin/python benchmarks/automation_throughput.py --postgres URL --redis URL \\
        [--events 10000] [--repeats 3] [--fork]

One tenant (the example pack) has one rule: on ``record.created`` of a ticket, ``set_field``
``resolution``. ``--events`` tickets are created through the entities service with no
worker running, so their events wait on the ``events`` queue. Then two real ``twofold
worker --burst`` processes at a time drain it in three steps, so each kind of job is timed
on its own:

1. ``--queue events``: each event's handler fires the rule (a run row, a job queued);
2. ``--queue automations``: the rule jobs, each setting the field — the issue's
   "automation jobs per second", the headline;
3. every queue: the events those writes emitted (``record.updated``, ``field.changed``).

``end to end`` is the events divided by the three steps' time together: one automation is
four RQ jobs. The baseline, in the same run and interleaved with it, is as many empty jobs
drained by two plain RQ workers: ``rq worker``'s class (a work horse forked per job, RQ's
default and the headline's baseline) and RQ's ``SimpleWorker`` (in-process, which
``twofold worker`` uses unless given ``--fork``; ``--fork`` here runs it that way).

Times are spans of RQ's own job timestamps (first job started to last job ended), so the
workers' start-up (the app, the plugins) is counted on neither side. Printed: each rate's
median over ``--repeats`` and the median of its per-repeat ratios (goal: at least 30 %).

PostgreSQL only: on SQLite two worker processes writing at once queue behind its single
writer lock (``database is locked`` retries and stalls), which measures SQLite, not the
engine. The database given is wiped (its ``public`` schema is dropped) and the Redis
database given is flushed: use scratch ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
SECRET = "benchmark-secret-key-0123456789-0123456789"
EMPTY_QUEUE = "bench-empty"
BATCH = 250  # tickets per transaction while emitting
DRAIN_TIMEOUT = 3600


def empty_job() -> None:
    """The baseline: RQ's whole cost for a job that does nothing."""


def _app(database_url: str, redis_url: str, work: Path) -> Any:
    os.environ["TWOFOLD_INSTANCE"] = str(work / "instance")
    from twofold.app import create_app
    from twofold.config import normalise_database_url

    return create_app({
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url), "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False,
    })


def _reset_schema() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from twofold.db import db

    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade()


def _tenant() -> tuple[uuid.UUID, uuid.UUID]:
    """A company with the example pack and only the benchmark's rule enabled."""
    from twofold.auth.permissions import Actor, acting_as
    from twofold.automations.models import Rule
    from twofold.db import db
    from twofold.packs import service as packs
    from twofold.tenancy import service as tenancy
    from twofold.tenancy.scope import tenant_scope

    result = tenancy.signup({"company_name": "bench", "slug": "bench", "email": "owner@bench.example.com",
                             "password": "correct horse battery"})
    with tenant_scope(result.tenant.id), acting_as(Actor(result.user.id, "owner")):
        packs.enable("example")
        for rule in db.session.scalars(db.select(Rule)):
            rule.enabled = False  # the pack's template: time-based, but keep the rule set to one
        db.session.add(Rule(
            name="resolve on create", enabled=True, entity_type="ticket",
            trigger={"type": "event", "event": "record.created", "filters": {}}, conditions=[],
            actions=[{"type": "set_field", "params": {"field": "resolution", "value": "auto"}}],
            pack="", state={},
        ))
        db.session.commit()
    return result.tenant.id, result.user.id


def _emit(tenant_id: uuid.UUID, owner_id: uuid.UUID, count: int, repeat: int) -> float:
    """Create ``count`` tickets through the service; their events wait on the queue."""
    from twofold.auth.permissions import Actor, acting_as
    from twofold.db import db
    from twofold.entities import service as records
    from twofold.tenancy.scope import tenant_scope

    started = time.perf_counter()
    with tenant_scope(tenant_id), acting_as(Actor(owner_id, "owner")):
        for n in range(count):
            records.create("ticket", {"subject": f"Printer {repeat}-{n} does not print",
                                      "requester_email": f"person{n}@example.com"})
            if n % BATCH == BATCH - 1:
                db.session.commit()  # the relay queues the batch's events after this
        db.session.commit()
    db.session.remove()
    return time.perf_counter() - started


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _wait(workers: list[subprocess.Popen], log: Path) -> None:
    for worker in workers:
        if worker.wait(timeout=DRAIN_TIMEOUT) != 0:
            raise SystemExit(f"a worker exited with {worker.returncode}; see {log}")


def _finished(connection: Any, queues: list[str]) -> set[str]:
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    failed = sum(FailedJobRegistry(q, connection=connection).count for q in queues)
    if failed:
        raise SystemExit(f"{failed} jobs failed; inspect the failed registries of {queues}")
    return {j for q in queues for j in FinishedJobRegistry(q, connection=connection).get_job_ids()}


def _span(connection: Any, ids: set[str]) -> float:
    """Seconds from the first of these jobs' start to the last one's end (RQ's timestamps)."""
    pipe = connection.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(f"rq:job:{job_id}", "started_at", "ended_at")
    starts, ends = [], []
    for started, ended in pipe.execute():
        starts.append(_when(started))
        ends.append(_when(ended))
    return (max(ends) - min(starts)).total_seconds()


def _when(raw: bytes) -> dt.datetime:
    return dt.datetime.strptime(raw.decode().rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")


def baseline(connection: Any, env: dict[str, str], count: int, worker_class: str, log: Path) -> float:
    """Empty jobs per second through two plain RQ workers of ``worker_class``."""
    from rq import Queue

    connection.flushdb()
    queue = Queue(EMPTY_QUEUE, connection=connection)
    with connection.pipeline() as pipe:
        for _ in range(count):
            queue.enqueue("automation_throughput.empty_job", result_ttl=3600, pipeline=pipe)
        pipe.execute()
    code = ("import os, redis, rq; c = redis.Redis.from_url(os.environ['REDIS_URL']); "
            f"rq.{worker_class}([rq.Queue('{EMPTY_QUEUE}', connection=c)], connection=c).work(burst=True)")
    plain = {**env, "PYTHONPATH": str(HERE)}
    _wait([_spawn([sys.executable, "-c", code], plain, log) for _ in range(2)], log)
    done = _finished(connection, [EMPTY_QUEUE])
    assert len(done) == count, f"{len(done)} of {count} empty jobs finished"
    return count / _span(connection, done)


def automations(app: Any, tenant: tuple[uuid.UUID, uuid.UUID], env: dict[str, str], count: int,
                repeat: int, fork: bool, log: Path) -> dict[str, float]:
    """Event jobs, rule jobs and whole automations per second through two `twofold worker`s."""
    from twofold.automations.engine import QUEUE
    from twofold.automations.models import RuleRun
    from twofold.db import db
    from twofold.events.outbox import EVENTS_QUEUE
    from twofold.tenancy.scope import tenant_scope

    connection = app.extensions["twofold.redis"]
    connection.flushdb()
    with app.app_context():
        emit_seconds = _emit(*tenant, count, repeat)
    waiting = connection.llen(f"rq:queue:{EVENTS_QUEUE}")
    assert waiting == count, f"{waiting} events queued for {count} tickets"
    queues = [EVENTS_QUEUE, QUEUE]
    seen: set[str] = set()
    spans = {}
    for step, only in (("events", [EVENTS_QUEUE]), ("automations", [QUEUE]), ("follow-up", [])):
        command = [str(BIN / "twofold"), "worker", "--burst", *(a for q in only for a in ("--queue", q))]
        _wait([_spawn(command + (["--fork"] if fork else []), env, log) for _ in range(2)], log)
        new = _finished(connection, queues) - seen
        seen |= new
        spans[step] = (len(new), _span(connection, new))
    with app.app_context(), tenant_scope(tenant[0]):
        ok = db.session.scalar(db.select(db.func.count()).select_from(RuleRun).where(RuleRun.status == "ok"))
        db.session.remove()
    expected = count * (repeat + 1)  # the runs of earlier repeats stay in the table
    assert ok == expected, f"{ok} rule runs finished ok, expected {expected}"
    assert spans["automations"][0] == count, f"{spans['automations'][0]} rule jobs for {count} events"
    return {
        "event jobs/s": spans["events"][0] / spans["events"][1],
        "automation jobs/s": count / spans["automations"][1],
        "follow-up jobs/s": spans["follow-up"][0] / spans["follow-up"][1],
        "end to end/s": count / sum(seconds for _n, seconds in spans.values()),
        "jobs": len(seen), "emit events/s": count / emit_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="postgresql://user:pass@host/scratch_db (its schema is reset)")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL"),
                        help="redis://host:port/N, a scratch database (it is flushed)")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--fork", action="store_true", help="run `twofold worker --fork` (a horse per job)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.postgres or not args.postgres.startswith("postgres"):
        parser.error("give --postgres: SQLite's one writer stalls two workers (see the docstring)")
    if not args.redis:
        parser.error("give --redis: a real Redis both the workers and this process reach")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        log = work / "workers.log"
        app = _app(args.postgres, args.redis, work)
        with app.app_context():
            _reset_schema()
            tenant = _tenant()
        env = {**os.environ, "DATABASE_URL": args.postgres, "REDIS_URL": args.redis, "SECRET_KEY": SECRET,
               "TWOFOLD_INSTANCE": str(work / "instance"), "PYTHONPATH": str(ROOT)}
        connection = app.extensions["twofold.redis"]
        mode = "twofold worker --fork" if args.fork else "twofold worker"
        print(f"postgresql + redis: {args.events:,} events (one rule, set_field) through two `{mode}`s, "
              f"median of {args.repeats} repeats; baselines: {args.events:,} empty jobs, two RQ workers")
        rows: list[dict[str, float]] = []
        for repeat in range(args.repeats):
            # Interleaved, so a noisy neighbour slows both sides of a ratio alike.
            row = {
                "empty, rq worker (fork)/s": baseline(connection, env, args.events, "Worker", log),
                "empty, in-process/s": baseline(connection, env, args.events, "SimpleWorker", log),
                **automations(app, tenant, env, args.events, repeat, args.fork, log),
            }
            rows.append(row)
            print(f"  repeat {repeat + 1}: " + ", ".join(
                f"{k} {v:.1f}" for k, v in row.items() if k not in ("jobs", "emit events/s")
            ) + f" ({row['jobs']} twofold jobs; emitting ran at {row['emit events/s']:.0f} events/s)")
        fork_base, simple_base = "empty, rq worker (fork)/s", "empty, in-process/s"
        rates = (fork_base, simple_base, "event jobs/s", "automation jobs/s", "follow-up jobs/s",
                 "end to end/s")
        med = {key: statistics.median(r[key] for r in rows) for key in rates}
        ratio = {
            (key, base): statistics.median(r[key] / r[base] for r in rows) for key in rates for base in
            (fork_base, simple_base)
        }
        print(f"\n{'per second, median':28}{'rate':>10}{'/ rq worker':>13}{'/ in-process':>14}")
        for key in rates:
            print(f"{key.removesuffix('/s'):28}{med[key]:>10.1f}{ratio[key, fork_base]:>13.2f}"
                  f"{ratio[key, simple_base]:>14.2f}")
        headline = ratio["automation jobs/s", fork_base]
        verdict = "met" if headline >= 0.30 else "NOT met"
        print(f"\ngoal: automation jobs at least 30 % of RQ's empty-job rate (`rq worker`): "
              f"{headline:.0%}, {verdict}")
        print(json.dumps({"events": args.events, "repeats": args.repeats, "fork": args.fork,
                          **{k: round(v, 1) for k, v in med.items()},
                          **{f"{k} / {b}": round(v, 3) for (k, b), v in ratio.items()}}))


if __name__ == "__main__":
    main()
