"""Production refuses unsafe secrets and hardens cookies; /healthz reports database and Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support.factories import PASSWORD, signup
from twofold.app import create_app
from twofold.config import DEV_SECRET_KEY, ConfigError
from twofold.db import db

REPO = Path(__file__).resolve().parents[1]
GOOD_SECRET = "kq3V0n7Yx2sR8mT1wB6zL4hD9pF5gJ0cA3eN7uQ2"


def shared_config(app, **extra) -> dict:
    """What another app server of the same deployment would get: same database, same Redis."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        **extra,
    }


# --- production configuration -------------------------------------------------------------


@pytest.mark.parametrize("secret", [DEV_SECRET_KEY, "short-secret", "x" * 31, ""])
def test_production_refuses_to_start_with_a_default_or_short_secret(app, secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(shared_config(app, TWOFOLD_ENV="production", SECRET_KEY=secret))


def test_production_from_the_environment_without_a_secret_refuses(app, monkeypatch):
    monkeypatch.setenv("TWOFOLD_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app(shared_config(app))


def test_development_starts_with_the_default_secret(app):
    dev = create_app(shared_config(app, TWOFOLD_ENV="development", SECRET_KEY=DEV_SECRET_KEY))
    try:
        assert dev.config["SESSION_COOKIE_SECURE"] is False
    finally:
        with dev.app_context():
            db.engine.dispose()


@pytest.fixture
def production_app(app, monkeypatch):
    monkeypatch.setenv("TWOFOLD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    prod = create_app(shared_config(app))
    yield prod
    with prod.app_context():
        db.engine.dispose()


def test_production_cookies_are_secure_httponly_and_lax(app, production_app):
    config = production_app.config
    assert config["SECRET_KEY"] == GOOD_SECRET
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert config["REMEMBER_COOKIE_SAMESITE"] == "Lax"

    acme = signup(app, "acme")
    client = production_app.test_client()
    https = {"base_url": "https://localhost"}
    page = client.get("/login", **https).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    # Over HTTPS, CSRF protection also wants a same-site Referer, as a browser sends it.
    response = client.post(
        "/login",
        data={"email": acme.email, "password": PASSWORD, "remember": "1", "csrf_token": token},
        headers={"Referer": "https://localhost/login"},
        **https,
    )
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert {"session", "remember_token"} <= set(cookies)
    for name in ("session", "remember_token"):
        attributes = [a.strip().lower() for a in cookies[name].split(";")[1:]]
        assert "secure" in attributes, cookies[name]
        assert "httponly" in attributes, cookies[name]
        assert "samesite=lax" in attributes, cookies[name]
    assert client.get("/t/acme/", **https).status_code == 200


# --- health -------------------------------------------------------------------------------


def test_healthz_is_200_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["redis"]["status"] == "ok"


def test_healthz_needs_no_sign_in_and_no_csrf(app):
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz", headers={"Host": "acme.example.com"}).status_code == 200


def test_healthz_is_503_when_the_database_is_down(app, tmp_path):
    missing = tmp_path / "no-such-directory" / "nested" / "twofold.db"
    broken = create_app({**shared_config(app), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    try:
        response = broken.test_client().get("/healthz")
    finally:
        with broken.app_context():
            db.engine.dispose()
    assert response.status_code == 503
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "down"
    assert body["database"]["status"] == "down"
    assert body["database"]["error"]
    assert body["redis"]["status"] == "ok"


HEALTH_IN_ANOTHER_PROCESS = """
import json, sys
from twofold.app import create_app
app = create_app(json.loads(sys.argv[1]))
response = app.test_client().get("/healthz")
print(json.dumps({"status": response.status_code, "json": response.get_json()}))
"""


def test_healthz_is_503_when_redis_is_down(app, tmp_path):
    # An app server of its own (a separate process), as it would run in production: building
    # it here would also re-point this process's shared rate-limiter at the dead Redis.
    config = shared_config(app, SECRET_KEY=app.config["SECRET_KEY"], REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    done = subprocess.run(
        [sys.executable, "-c", HEALTH_IN_ANOTHER_PROCESS, json.dumps(config)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        env={**os.environ, "TWOFOLD_INSTANCE": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    body = result["json"]
    assert body["status"] == "down"
    assert body["redis"]["status"] == "down"
    assert body["redis"]["error"]
    assert body["database"]["status"] == "ok"
