"""CSV export keeps memory flat as the file grows: the small, in-suite version of
``benchmarks/csv_memory.py`` (which measures peak RSS of export and import at 10k and
100k rows, each in its own process).

Here the measure is Python's own allocations (``tracemalloc``) at 300 and 3,000 rows with
pages of 100: an export that held every row (a list of all records, an identity map that
keeps them, the whole CSV in a buffer) would grow ten times over; a streaming one stays
within its page. The import's twin is benchmark-only: validating a row through the
service costs a few milliseconds, so even 150 against 1,200 rows under tracemalloc runs
well past the 20 seconds a suite test may take.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

import pytest
from flask import Flask

from benchmarks.list_api import bulk_tickets
from tests.support.factories import TenantHandle, signup
from twofold.entities import csv_io


def _example_tenant(app: Flask, slug: str) -> TenantHandle:
    tenant = signup(app, slug)
    assert app.test_client().post("/api/v1/packs/example/enable", headers=tenant.api()).status_code == 200
    return tenant


def _peak(work: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_memory_does_not_grow_with_the_rows(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_io, "EXPORT_PAGE", 100)
    small, large = _example_tenant(app, "small"), _example_tenant(app, "large")
    with app.app_context():
        bulk_tickets(small.tenant_id, small.user_id, 300, seed=1)
        bulk_tickets(large.tenant_id, large.user_id, 3000, seed=2)
    client = app.test_client()

    def export(tenant: TenantHandle, rows: int) -> Callable[[], None]:
        def run() -> None:
            response = client.get("/api/v1/records/ticket/export.csv", headers=tenant.api(), buffered=False)
            assert response.is_streamed
            lines = sum(chunk.count("\n" if isinstance(chunk, str) else b"\n") for chunk in response.response)
            response.close()
            assert lines == rows + 1
        return run

    export(small, 300)()  # warm: statement caches, the registry, imports
    peak_small, peak_large = _peak(export(small, 300)), _peak(export(large, 3000))
    assert peak_large < peak_small * 1.5, (peak_small, peak_large)
