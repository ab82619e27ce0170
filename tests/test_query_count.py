"""A list request costs the same number of SQL statements whatever its page size.

A relation loaded per record, a lookup per row or a lazy attribute would make the count
grow with the page (N+1); the statements are counted on the engine itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event

from tests.support.crm import Api, crm_tenant
from twofold.db import db


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_list_request_runs_as_many_queries_for_200_rows_as_for_10(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    people = [{"first_name": f"P{n:03}", "age": n % 50, "segment": "wholesale" if n % 10 == 0 else "retail",
               "tags": ["new"]} for n in range(230)]
    assert api.post("/records/person/bulk", json=people).status_code == 201
    deals = [{"name": f"D{n:03}", "amount": str(100 + n)} for n in range(205)]
    assert api.post("/records/deal/bulk", json=deals).status_code == 201

    def statements_for(path: str, expected_rows: int) -> list[str]:
        api.get(path)  # the first request of a shape may warm caches; the second is counted
        with counting(app) as statements:
            response = api.get(path)
        assert response.status_code == 200, response.get_json()
        assert len(response.get_json()["data"]) == expected_rows
        return statements

    for base, rows in (("/records/person?segment=retail&sort=-age", 207), ("/records/deal?sort=amount", 205)):
        small = statements_for(f"{base}&limit=10", 10)
        large = statements_for(f"{base}&limit=200", 200)
        assert len(small) == len(large), (small, large)
        assert sum("FROM records" in s for s in large) == 1  # the page is one query
        # A later page costs the same as the first.
        cursor = api.get(f"{base}&limit=200").get_json()["next_cursor"]
        assert cursor
        later = statements_for(f"{base}&limit=200&cursor={cursor}", rows - 200)
        assert len(later) == len(large)


def test_walking_the_pages_reads_every_record_once_with_empty_values_last(app: Flask) -> None:
    """The pages of a sort on a field some records leave empty: values first, in order,
    then the empty ones by id, in both directions, one query per page across the seam."""
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    Api(app, crm_tenant(app, "globex")).create("person", first_name="Foreign", age=1)
    people = [{"first_name": f"P{n}", "age": [None, 2, None, 0, None, 1, None][n]} for n in range(7)]
    assert api.post("/records/person/bulk", json=people).status_code == 201
    ids = {p["first_name"]: p["id"] for p in api.get("/records/person?limit=100").get_json()["data"]}
    by_id = sorted(["P0", "P2", "P4", "P6"], key=lambda name: ids[name])

    for sort, expected in (("age", ["P3", "P5", "P1", *by_id]), ("-age", ["P1", "P5", "P3", *by_id[::-1]]),
                           ("last_name", sorted(ids, key=lambda name: ids[name]))):
        walked, cursor, per_page = [], None, []
        while True:
            path = f"/records/person?sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else "")
            with counting(app) as statements:
                body = api.get(path)
            per_page.append(sum("FROM records" in s for s in statements))
            walked += [r["first_name"] for r in body.get_json()["data"]]
            cursor = body.get_json()["next_cursor"]
            if not cursor:
                break
        assert walked == expected, sort
        assert per_page == [1] * 4, sort
