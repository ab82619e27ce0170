"""Login throttling per account and per IP, with the counters in Redis."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from limits import parse

from tests.support.factories import PASSWORD, csrf_token, signup
from twofold.app import create_app
from twofold.db import db

REPO = Path(__file__).resolve().parents[1]


def account_limit(app) -> int:
    return parse(app.config["LOGIN_LIMIT_PER_ACCOUNT"]).amount


def ip_limit(app) -> int:
    return parse(app.config["LOGIN_LIMIT_PER_IP"]).amount


def attempt(client, email: str, password: str, ip: str = "127.0.0.1"):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": ip})


def security_events(client, owner) -> list[dict]:
    response = client.get("/api/v1/security-events", headers=owner.api())
    assert response.status_code == 200
    return response.get_json()["events"]


def test_per_account_limit_refuses_even_the_right_password(app, caplog):
    acme = signup(app, "acme")
    limit = account_limit(app)
    assert limit < ip_limit(app), "the test needs the account limit to bite first"
    client = app.test_client()
    variants = [acme.email, acme.email.upper(), f"  {acme.email} "]
    for n in range(limit):
        response = attempt(client, variants[n % len(variants)], "wrong password!")
        assert response.status_code == 401, n

    caplog.set_level(logging.WARNING)
    throttled = attempt(client, acme.email, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    assert "Retry-After" in throttled.headers
    assert client.get("/t/acme/").status_code == 302, "a throttled attempt does not sign in"

    # The same account is throttled from anywhere; other accounts are not.
    assert attempt(app.test_client(), acme.email, PASSWORD, ip="10.9.9.9").status_code == 429
    globex = signup(app, "globex")
    assert attempt(app.test_client(), globex.email, PASSWORD).status_code == 302

    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("login throttled" in m and acme.email in m for m in messages), messages
    events = security_events(app.test_client(), acme)
    throttled_events = [e for e in events if e["kind"] == "login.throttled"]
    assert throttled_events, [e["kind"] for e in events]
    assert throttled_events[0]["user_id"] == str(acme.user_id)
    assert [e["kind"] for e in events].count("login.failed") == limit


def test_successful_logins_do_not_use_up_the_allowance(app):
    acme = signup(app, "acme")
    for _ in range(account_limit(app) + 2):
        assert attempt(app.test_client(), acme.email, PASSWORD).status_code == 302


def test_per_ip_limit_across_different_accounts(app, caplog):
    acme = signup(app, "acme")
    attacker_ip, other_ip = "203.0.113.7", "198.51.100.4"
    client = app.test_client()
    for n in range(ip_limit(app)):
        response = attempt(client, f"guess{n}@acme.example.com", "wrong password!", ip=attacker_ip)
        assert response.status_code == 401, n

    caplog.set_level(logging.WARNING)
    assert attempt(client, acme.email, PASSWORD, ip=attacker_ip).status_code == 429
    assert attempt(client, "guess-new@acme.example.com", "x", ip=attacker_ip).status_code == 429
    # The account itself is fine from another address.
    assert attempt(app.test_client(), acme.email, PASSWORD, ip=other_ip).status_code == 302
    assert any("login throttled" in r.getMessage() and attacker_ip in r.getMessage() for r in caplog.records)


def test_the_counters_live_in_redis(app):
    acme = signup(app, "acme")
    redis = app.extensions["twofold.redis"]
    assert not [k for k in redis.keys("*") if b"login" in k]
    assert attempt(app.test_client(), acme.email, "wrong password!").status_code == 401
    keys = [k.decode() for k in redis.keys("*") if b"login" in k]
    assert any(acme.email in k for k in keys), keys


@pytest.fixture
def second_app(app):
    """Another app server: its own app object, the same database and Redis."""
    config = {
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "MAIL_SERVER": app.config["MAIL_SERVER"],
        "MAIL_PORT": app.config["MAIL_PORT"],
    }
    other = create_app(config)
    assert other is not app
    yield other
    with other.app_context():
        db.engine.dispose()


def test_two_app_servers_share_the_counters(app, second_app):
    acme = signup(app, "acme")
    limit = account_limit(app)
    servers = [app.test_client(), second_app.test_client()]
    for n in range(limit):
        assert attempt(servers[n % 2], acme.email, "wrong password!").status_code == 401, n
    assert attempt(servers[limit % 2], acme.email, PASSWORD).status_code == 429
    assert attempt(servers[(limit + 1) % 2], acme.email, PASSWORD).status_code == 429


ANOTHER_PROCESS = """
import json, sys
from twofold.app import create_app
config, email, password, count = json.loads(sys.argv[1])
client = create_app(config).test_client()
codes = []
for _ in range(count):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    codes.append(client.post("/login", data={"email": email, "password": password,
                                             "csrf_token": token}).status_code)
print(json.dumps(codes))
"""


def test_an_app_server_in_another_process_shares_the_counters(app, tmp_path):
    acme = signup(app, "acme")
    limit = account_limit(app)
    config = {
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
    }
    env = {**os.environ, "TWOFOLD_INSTANCE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", ANOTHER_PROCESS, json.dumps([config, acme.email, "wrong password!", limit])],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [401] * limit
    assert attempt(app.test_client(), acme.email, PASSWORD).status_code == 429
