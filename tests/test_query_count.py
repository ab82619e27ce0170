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
