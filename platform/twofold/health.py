"""``GET /healthz``: can this process reach its database and Redis?"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from twofold.db import db
from twofold.redis_conn import get_redis

bp = Blueprint("health", __name__)


def _check(probe: Any) -> dict[str, str]:
    try:
        probe()
    except Exception as exc:  # any failure is "down", with the reason for the operator
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": "ok"}


@bp.get("/healthz")
def healthz() -> Any:
    def database() -> None:
        try:
            db.session.execute(text("SELECT 1"))
        finally:
            db.session.rollback()

    checks = {"database": _check(database), "redis": _check(lambda: get_redis().ping())}
    healthy = all(c["status"] == "ok" for c in checks.values())
    return {"status": "ok" if healthy else "down", **checks}, 200 if healthy else 503
