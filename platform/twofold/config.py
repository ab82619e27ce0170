"""Configuration from the environment, with embedded defaults for a laptop.

With nothing set, the app uses SQLite in ``instance/`` and an embedded Redis; set
``DATABASE_URL`` and ``REDIS_URL`` for PostgreSQL and a real Redis. ``TWOFOLD_ENV=production``
hardens cookies and refuses to start on a default secret key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "twofold-dev-secret-not-for-production"


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def normalise_database_url(url: str) -> str:
    # psycopg 3 is the driver; plain postgres URLs from hosting providers name no driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment(instance_path: str) -> dict[str, Any]:
    env = os.environ
    database_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'twofold.db'}"
    return {
        "TWOFOLD_ENV": env.get("TWOFOLD_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "EMBEDDED_REDIS_PATH": str(Path(instance_path) / "redis.db"),
        "BASE_DOMAIN": env.get("TWOFOLD_BASE_DOMAIN") or None,
        "PUBLIC_URL": env.get("TWOFOLD_PUBLIC_URL", "http://localhost:5000"),
        # Telegram's Bot API; tests and air-gapped demos point it at a local server.
        "TELEGRAM_API_BASE": env.get("TWOFOLD_TELEGRAM_API_BASE", "https://api.telegram.org"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "") == "1",
        "MAIL_FROM": env.get("MAIL_FROM", "Twofold <no-reply@twofold.localhost>"),
        "SAFE_MODE": env.get("TWOFOLD_SAFE_MODE", "") == "1",
        "LOGIN_LIMIT_PER_ACCOUNT": env.get("TWOFOLD_LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_LIMIT_PER_IP": env.get("TWOFOLD_LOGIN_LIMIT_PER_IP", "20 per 15 minutes"),
        "SIGNUP_LIMIT_PER_IP": env.get("TWOFOLD_SIGNUP_LIMIT_PER_IP", "10 per hour"),
        "INVITATION_DAYS": 7,
        "PASSWORD_RESET_SECONDS": 3600,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted; the
        # per-IP throttle needs the client's address, not the load balancer's.
        "PROXY_HOPS": int(env.get("TWOFOLD_PROXY_HOPS", "0")),
        "PHONE_DEFAULT_REGION": env.get("TWOFOLD_PHONE_REGION") or None,
    }


def harden(config: dict[str, Any]) -> None:
    """Refuse an unsafe production configuration; otherwise make cookies strict."""
    if config.get("TWOFOLD_ENV") != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret == DEV_SECRET_KEY or len(secret) < 32:
        raise ConfigError(
            "TWOFOLD_ENV=production needs SECRET_KEY set to a random value of 32+ characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
    config["SESSION_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_SECURE"] = True
    config["PREFERRED_URL_SCHEME"] = "https"
