"""The list API against hand-written SQL for the same page, at page 1 and page 1,000.

    .venv/bin/python benchmarks/list_api.py [--postgres URL] [--rows 100000] [--others 10] [--repeat 50]

One tenant holds ``--rows`` tickets (the example pack) and ``--others`` tenants hold
``--rows / 10`` each beside them, bulk-inserted in the shape the service writes (title,
search_text, the JSON document, typed columns, the default pipeline's first stage). The
page asked for is a filter, a sort and 50 rows: ``priority=normal`` (60 % of the rows),
sorted by ``-updated_at`` (a typed column), then by a JSON field that has an expression
index (``-requester_email``). Each is timed four ways in the same run:

- ``api``: ``GET /api/v1/records/ticket?...`` through the Flask test client with a token
  (authentication, the tenant's registry, the query, JSON);
- ``service``: ``entities.query.list_records`` and ``to_json`` on each record;
- ``api query``: the very statement ``list_records`` sends, captured and run raw through
  the DB-API cursor;
- ``sql``: a hand-written query for the same page (same columns, the keyset condition
  each database seeks with), the baseline, through the same cursor.

``api query / sql`` says whether the query is as good as hand-written; ``api / sql``
adds what the Python layers cost. Page 1,000 is reached once by walking the API's
cursor; then that page is fetched repeatedly. Medians are printed with the ratios and
page 1000 / page 1; ``--explain`` prints the plans. The PostgreSQL database given is
wiped (its ``public`` schema is dropped): use a scratch one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "correct horse battery"
PAGE = 50
TARGET_PAGE = 1000
BATCH = 5000


def _app(database_url: str, work: Path) -> Any:
    os.environ["TWOFOLD_INSTANCE"] = str(work / "instance")
    from twofold.app import create_app
    from twofold.config import normalise_database_url

    return create_app({
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": None, "EMBEDDED_REDIS_PATH": str(work / "redis.db"),
        "SECRET_KEY": "benchmark-secret-key-0123456789-0123456789", "RATELIMIT_ENABLED": False,
    })


def _reset_schema() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from twofold.db import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade()


def _tenant(slug: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A company with the example pack on: (tenant id, owner id, API token)."""
    from twofold.auth.permissions import Actor, acting_as
    from twofold.db import db
    from twofold.packs import service as packs
    from twofold.tenancy import service as tenancy
    from twofold.tenancy.scope import tenant_scope

    result = tenancy.signup({"company_name": slug, "slug": slug, "email": f"owner@{slug}.example.com",
                             "password": PASSWORD})
    with tenant_scope(result.tenant.id), acting_as(Actor(result.user.id, "owner")):
        packs.enable("example")
        db.session.commit()
    return result.tenant.id, result.user.id, result.api_token


def bulk_tickets(tenant_id: uuid.UUID, owner_id: uuid.UUID, count: int, seed: int) -> None:
    """Insert tickets as ``entities.service.create`` would have written them."""
    from twofold.db import db, new_id
    from twofold.entities.models import Record
    from twofold.entities.service import SEARCHABLE
    from twofold.packs import registry
    from twofold.pipelines.models import Pipeline, Stage
    from twofold.tenancy.scope import tenant_scope

    rng = random.Random(seed)
    with tenant_scope(tenant_id):
        etype = registry.entity_type("ticket")
        pipeline = db.session.scalar(db.select(Pipeline).where(Pipeline.entity_type == "ticket"))
        stages = db.select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position)
        first = db.session.scalar(stages)
        pipeline_id, stage_id = pipeline.id, first.id
    db.session.remove()
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    table = Record.__table__
    with db.engine.begin() as conn:
        for offset in range(0, count, BATCH):
            rows = []
            for n in range(offset, min(count, offset + BATCH)):
                values = {
                    "subject": f"Printer on floor {n % 40} does not print ({seed}-{n})",
                    "requester_email": f"person{rng.randrange(count * 2)}@example.com",
                    "priority": rng.choices(("low", "normal", "high"), weights=(2, 6, 2))[0],
                }
                if n % 3 == 0:
                    values["resolution"] = "Replaced the toner cartridge."
                created = start + dt.timedelta(seconds=n * 60 + rng.randrange(60))
                rows.append({
                    "tenant_id": tenant_id, "id": new_id(), "entity_type": "ticket",
                    "title": etype.title_for(values)[:500], "owner_id": owner_id, "created_by": owner_id,
                    "pipeline_id": pipeline_id, "stage_id": stage_id, "stage_entered_at": created,
                    "amount": None, "currency": None, "status": None, "data": values,
                    "search_text": " ".join(
                        str(values[f.name]) for f in etype.fields
                        if f.type in SEARCHABLE and values.get(f.name)
                    ).lower(),
                    "created_at": created, "updated_at": created + dt.timedelta(hours=rng.randrange(2000)),
                    "deleted_at": None, "merged_into": None,
                })
            conn.execute(table.insert(), rows)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE records")
        else:
            conn.exec_driver_sql("ANALYZE")


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Scenario:
    """One list request (a filter and a sort), timed three ways at page 1 and page 1,000."""

    def __init__(self, app: Any, tenant_id: uuid.UUID, owner_id: uuid.UUID, token: str, sort: str,
                 sql_order: tuple[str, str], repeat: int) -> None:
        self.app, self.tenant_id, self.owner_id = app, tenant_id, owner_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.params = {"priority": "normal", "sort": sort, "limit": str(PAGE)}
        self.sort = sort
        self.sql_expr, self.sql_type = sql_order
        self.repeat = repeat
        self.client = app.test_client()
        with app.app_context():
            from twofold.db import db

            self.dialect = db.engine.dialect.name

    def api(self, cursor: str | None) -> dict[str, Any]:
        params = dict(self.params, **({"cursor": cursor} if cursor else {}))
        response = self.client.get("/api/v1/records/ticket", query_string=params, headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def service(self, cursor: str | None) -> list[dict[str, Any]]:
        from twofold.auth.permissions import Actor, acting_as
        from twofold.db import db
        from twofold.entities import query
        from twofold.entities import service as records
        from twofold.packs import registry
        from twofold.tenancy.scope import tenant_scope

        with self.app.app_context(), tenant_scope(self.tenant_id), acting_as(Actor(self.owner_id, "owner")):
            page = query.list_records("ticket", params={"priority": "normal"}, sort=self.sort, limit=PAGE,
                                      cursor=cursor)
            etype = registry.entity_type("ticket")
            out = [records.to_json(etype, r) for r in page.records]
            db.session.remove()
        return out

    def sql_text(self, after: bool) -> str:
        postgres = self.dialect == "postgresql"
        priority = "(data ->> 'priority')" if postgres else "json_extract(data, '$.priority')"
        where = (
            "tenant_id = :tenant AND entity_type = 'ticket' AND merged_into IS NULL AND deleted_at IS NULL "
            f"AND {priority} = 'normal'"
        )
        # The keyset condition each database seeks its index with (see entities/query.py).
        if after and postgres:
            where += f" AND ({self.sql_expr}, id) < (:value, :id)"
        elif after:
            where += (f" AND {self.sql_expr} <= :value"
                      f" AND ({self.sql_expr} < :value OR ({self.sql_expr} = :value AND id < :id))")
        return (
            "SELECT tenant_id, id, entity_type, title, owner_id, pipeline_id, stage_id, stage_entered_at, "
            "amount, currency, status, data, search_text, created_at, updated_at, created_by, deleted_at, "
            "merged_into "
            f"FROM records WHERE {where} ORDER BY {self.sql_expr} DESC, id DESC LIMIT {PAGE}"
        )

    def sql(self, after: tuple[Any, uuid.UUID] | None) -> list[Any]:
        """The hand-written page, through the DB-API cursor as the captured API query is."""
        params: dict[str, Any] = {"tenant": self._bind(self.tenant_id)}
        if after is not None:
            params.update(value=after[0], id=self._bind(after[1]))
        statement = self.sql_text(after is not None)
        if self.dialect == "postgresql":  # psycopg's placeholders
            for name in params:
                statement = statement.replace(f":{name}", f"%({name})s")
        return run_raw(self.app, statement, params)

    def _bind(self, value: uuid.UUID) -> Any:
        return value.hex if self.dialect == "sqlite" else value

    def _sql_cursor(self, record_id: str) -> tuple[Any, uuid.UUID]:
        """The sort value of the last row of page 999, as the database stores it."""
        from sqlalchemy import text

        from twofold.db import db

        with self.app.app_context(), db.engine.connect() as conn:
            value = conn.execute(
                text(f"SELECT {self.sql_expr} FROM records WHERE tenant_id = :tenant AND id = :id"),
                {"tenant": self._bind(self.tenant_id), "id": self._bind(uuid.UUID(record_id))},
            ).scalar_one()
        return value, uuid.UUID(record_id)

    def run(self) -> dict[str, Any]:
        first = self.api(None)
        cursor, last_id = None, None
        walked = time.perf_counter()
        for _ in range(TARGET_PAGE - 1):
            body = self.api(cursor)
            cursor, last_id = body["next_cursor"], body["data"][-1]["id"]
            assert cursor, "fewer than 1,000 pages"
        walked = time.perf_counter() - walked
        after = self._sql_cursor(last_id)
        # All three read the same page.
        target_ids = [r["id"] for r in self.api(cursor)["data"]]
        assert [r["id"] for r in self.service(cursor)] == target_ids
        sql_ids = [str(uuid.UUID(str(row[1]))) for row in self.sql(after)]
        assert sql_ids == target_ids, "the hand-written SQL reads another page"
        assert [str(uuid.UUID(str(row[1]))) for row in self.sql(None)] == [r["id"] for r in first["data"]]
        timings = {
            ("api", 1): _median_ms(lambda: self.api(None), self.repeat),
            ("api", TARGET_PAGE): _median_ms(lambda: self.api(cursor), self.repeat),
            ("service", 1): _median_ms(lambda: self.service(None), self.repeat),
            ("service", TARGET_PAGE): _median_ms(lambda: self.service(cursor), self.repeat),
            ("sql", 1): _median_ms(lambda: self.sql(None), self.repeat),
            ("sql", TARGET_PAGE): _median_ms(lambda: self.sql(after), self.repeat),
        }
        # The API's own statement, run raw: if it costs what the hand-written one does, the
        # query is as good, and the rest of the API's time is Python (auth, ORM, JSON).
        for page, at in ((1, None), (TARGET_PAGE, cursor)):
            statement, parameters = captured_query(self.app, self, at)
            timings[("api query", page)] = _median_ms(
                lambda s=statement, p=parameters: run_raw(self.app, s, p), self.repeat
            )
        return {"timings": timings, "walk_seconds": walked, "cursor": cursor}


def captured_query(app: Any, scenario: Scenario, cursor: str | None) -> tuple[str, Any]:
    """The statement (and its parameters) the service runs for a page."""
    from sqlalchemy import event

    from twofold.db import db

    captured: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor_: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM records" in statement:
            captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", grab)
    try:
        scenario.service(cursor)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return captured[-1]


def run_raw(app: Any, statement: str, parameters: Any, prefix: str = "") -> list[Any]:
    from twofold.db import db

    with app.app_context(), db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        cur = raw.cursor()
        cur.execute(prefix + statement, parameters)
        rows = cur.fetchall()
        cur.close()
    return rows


def explain(app: Any, scenario: Scenario, cursor: str | None) -> str:
    """The plan of the query the API runs, for the README and for finding out why."""
    from twofold.db import db

    statement, parameters = captured_query(app, scenario, cursor)
    with app.app_context():
        prefix = "EXPLAIN ANALYZE " if db.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    rows = run_raw(app, statement, parameters, prefix)
    return "\n".join(" ".join(str(c) for c in row) if len(row) > 1 else str(row[0]) for row in rows)


def main() -> None:
    global TARGET_PAGE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="postgresql://user:pass@host/scratch_db (its schema is reset)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--target-page", type=int, default=TARGET_PAGE, help="the far page (default 1000)")
    parser.add_argument("--explain", action="store_true", help="print the plans of the API's queries")
    args = parser.parse_args()
    TARGET_PAGE = args.target_page

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        database_url = args.postgres or f"sqlite:///{work / 'bench.db'}"
        app = _app(database_url, work)
        from twofold.db import db

        with app.app_context():
            _reset_schema()
            started = time.perf_counter()
            main_tenant = _tenant("bench-main")
            bulk_tickets(main_tenant[0], main_tenant[1], args.rows, seed=0)
            for n in range(args.others):
                other = _tenant(f"bench-other-{n}")
                bulk_tickets(other[0], other[1], args.rows // 10, seed=n + 1)
            seeded = time.perf_counter() - started
            backend = db.engine.dialect.name
        print(f"{backend}: {args.rows:,} tickets in one tenant, {args.others} tenants with "
              f"{args.rows // 10:,} each beside it (seeded in {seeded:.0f} s); pages of {PAGE}, "
              f"median of {args.repeat} runs, milliseconds")
        scenarios = {
            "priority=normal, sort=-updated_at": ("-updated_at", ("updated_at", "datetime")),
            "priority=normal, sort=-requester_email": (
                "-requester_email",
                ("(data ->> 'requester_email')" if backend == "postgresql"
                 else "json_extract(data, '$.requester_email')", "text"),
            ),
        }
        results = {}
        for label, (sort, sql_order) in scenarios.items():
            scenario = Scenario(app, *main_tenant, sort=sort, sql_order=sql_order, repeat=args.repeat)
            result = scenario.run()
            results[label] = result
            t = result["timings"]
            walk = result["walk_seconds"]
            print(f"\n{label}  (walking to page {TARGET_PAGE} through the API took {walk:.1f} s)")
            print(f"{'':14}{'page 1':>10}{f'page {TARGET_PAGE}':>12}{f'p{TARGET_PAGE}/p1':>10}")
            for way in ("api", "service", "api query", "sql"):
                one, far = t[(way, 1)], t[(way, TARGET_PAGE)]
                print(f"{way:14}{one:>10.2f}{far:>12.2f}{far / one:>10.2f}")
            for way in ("api", "service", "api query"):
                print(f"{way + '/sql':14}{t[(way, 1)] / t[('sql', 1)]:>10.2f}"
                      f"{t[(way, TARGET_PAGE)] / t[('sql', TARGET_PAGE)]:>12.2f}")
            if args.explain:
                for page, cursor in ((1, None), (TARGET_PAGE, result["cursor"])):
                    print(f"-- plan of the API's query, page {page}:")
                    print(explain(app, scenario, cursor))
        print(json.dumps({label: {f"{w}@{p}": round(v, 3) for (w, p), v in r["timings"].items()}
                          for label, r in results.items()}))


if __name__ == "__main__":
    main()
