"""The Telegram webhook under load, against a bare Flask endpoint that inserts one row.

    .venv/bin/python benchmarks/telegram_webhook.py [--postgres URL] [--redis URL]
        [--requests 1500] [--concurrency 8] [--workers 4] [--rounds 3]

Both apps run under gunicorn (``--workers`` sync workers each) on the same database; a
client of ``--concurrency`` threads with keep-alive connections posts ``--requests`` per
round. The webhook gets real Bot API updates from many clients walking the B2C pack's
flow (``/start`` with a campaign, the need, how to reach them, the phone), each update new,
so every request stores a message, decides the bot's answer and emits its event; the
baseline gets a body of the same size and writes one row. Rounds alternate the two;
medians of throughput and p95 latency are printed with the ratio (the goal: the webhook at
least 40 % of the bare endpoint's throughput, p95 under 50 ms). The PostgreSQL database
given is wiped (its ``public`` schema is dropped): use a scratch one. Without ``--redis``
the embedded Redis is used, as in ``make run``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
FLOW = ["/start spring_sale", "A sofa for the living room", "Phone", "+7 912 345 67 89"]
SECRET_KEY = "benchmark-secret-key-0123456789-0123456789"
FERNET_KEY = "q8Yx0n7cWk5vJ8Jb6wUu1o3aQm2yXl9sRr4tZp0eVdE="


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(database_url: str, env: dict[str, str]) -> tuple[str, str]:
    """A tenant with the B2C pack and a connected Telegram channel: (webhook path, secret)."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import text

    from twofold.app import create_app
    from twofold.auth.permissions import SYSTEM, acting_as
    from twofold.channels.models import Channel
    from twofold.db import db
    from twofold.integrations import secrets_box
    from twofold.packs import service as packs
    from twofold.tenancy import service as tenancy
    from twofold.tenancy.scope import tenant_scope

    app = create_app()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        result = tenancy.signup({"company_name": "Bench Shop", "slug": "bench",
                                 "email": "owner@bench.example.com", "password": "correct horse battery"})
        tenant_id = result.tenant.id
        secret = secrets.token_urlsafe(32)
        with tenant_scope(tenant_id), acting_as(SYSTEM):
            packs.enable("b2c")
            sealed = secrets_box.seal({"token": "1:bench", "webhook_secret": secret})
            channel = Channel(kind="telegram", name="Bench bot", flow_key="b2c.lead", settings={},
                              secrets=sealed)
            db.session.add(channel)
            db.session.commit()
            return f"/hooks/telegram/{channel.id}", secret


class Server:
    def __init__(self, target: str, workers: int, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "--keep-alive", "30", target],
            cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{target} did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def load(port: int, requests: int, concurrency: int, body_for: Any, headers: dict[str, str],
         path: str) -> tuple[float, list[float]]:
    """Post ``requests`` bodies from ``concurrency`` threads; returns (req/s, latencies ms)."""
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                n = next(counter)
            if n >= requests:
                break
            body = body_for(n)
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:  # counted, then a new connection
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            took = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(took)
                if status != "200":
                    errors.append(status)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} of {requests} requests failed, e.g. {errors[0]}")
    return requests / elapsed, latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="a scratch PostgreSQL URL (wiped); default: SQLite in a temp dir")
    parser.add_argument("--redis", help="a Redis URL; default: the embedded Redis")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="twofold-bench-"))
    from twofold.config import normalise_database_url

    database_url = normalise_database_url(args.postgres or f"sqlite:///{work / 'bench.db'}")
    env = {
        "DATABASE_URL": database_url, "TWOFOLD_INSTANCE": str(work / "instance"), "SECRET_KEY": SECRET_KEY,
        "TWOFOLD_SECRETS_KEY": FERNET_KEY, "BENCH_DATABASE_URL": database_url,
    }
    if args.redis:
        env["REDIS_URL"] = args.redis
    path, secret = prepare(database_url, env)
    hook_headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    update_ids = itertools.count(1)
    base = [0]  # each round talks to new clients, so every conversation starts afresh

    def update(n: int) -> bytes:
        # Request n is step n % 4 of client n // 4: clients walk the flow, interleaved.
        user = base[0] + n // len(FLOW)
        return json.dumps({
            "update_id": next(update_ids),
            "message": {"message_id": n, "date": 1764770000, "text": FLOW[n % len(FLOW)],
                        "from": {"id": user, "is_bot": False, "first_name": "Client"},
                        "chat": {"id": user, "type": "private"}},
        }).encode()

    pad = "x" * len(update(0))

    def bare_body(n: int) -> bytes:
        return json.dumps({"n": n, "pad": pad}).encode()

    webhook = Server("wsgi:app", args.workers, env)
    bare = Server("benchmarks.bare_insert_app:create()", args.workers, env)
    results: dict[str, list[tuple[float, float]]] = {"bare": [], "webhook": []}
    try:
        load(bare.port, 100, args.concurrency, bare_body, {}, "/bare")  # warm both up
        base[0] = 1_000_000
        load(webhook.port, 100, args.concurrency, update, hook_headers, path)
        for r in range(args.rounds):
            base[0] = (r + 2) * 1_000_000
            rate, lat = load(bare.port, args.requests, args.concurrency, bare_body, {}, "/bare")
            results["bare"].append((rate, p95(lat)))
            rate, lat = load(webhook.port, args.requests, args.concurrency, update, hook_headers, path)
            results["webhook"].append((rate, p95(lat)))
            print(f"round {r + 1}: bare {results['bare'][-1][0]:.0f} req/s, "
                  f"webhook {results['webhook'][-1][0]:.0f} req/s", flush=True)
    finally:
        webhook.stop()
        bare.stop()
    backend = "postgresql" if args.postgres else "sqlite"
    bare_rate = statistics.median(r for r, _ in results["bare"])
    hook_rate = statistics.median(r for r, _ in results["webhook"])
    print(f"\n{backend}, {args.workers} gunicorn workers, concurrency {args.concurrency}, "
          f"{args.requests} requests x {args.rounds} rounds (medians)")
    for label, name, rate in (("bare insert", "bare", bare_rate), ("telegram hook", "webhook", hook_rate)):
        tail = statistics.median(p for _, p in results[name])
        print(f"  {label:<15} {rate:8.0f} req/s   p95 {tail:6.1f} ms")
    ratio = hook_rate / bare_rate
    print(f"  webhook / bare  {ratio:8.0%}   (goal: at least 40 %, p95 under 50 ms)")


if __name__ == "__main__":
    main()
