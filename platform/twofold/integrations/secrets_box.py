"""Encryption at rest of connector secrets (Fernet).

The key is ``TWOFOLD_SECRETS_KEY`` (a Fernet key) from the config or the environment. Outside
production, without it, a key is derived from ``SECRET_KEY`` with a warning; production
refuses to store secrets without a real key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import os
from typing import Any

from cryptography.fernet import Fernet
from flask import current_app

log = logging.getLogger(__name__)


def _fernet() -> Fernet:
    config = current_app.config
    key = config.get("TWOFOLD_SECRETS_KEY") or os.environ.get("TWOFOLD_SECRETS_KEY")
    if not key:
        if config.get("TWOFOLD_ENV") == "production":
            raise RuntimeError("TWOFOLD_SECRETS_KEY must be set in production (a Fernet key).")
        return _derived(config["SECRET_KEY"])
    return _keyed(key if isinstance(key, str) else key.decode())


@functools.cache
def _keyed(key: str) -> Fernet:
    # One Fernet per key and process: a webhook unseals its channel's token on every message.
    return Fernet(key.encode())


@functools.cache
def _derived(secret_key: str) -> Fernet:
    log.warning("TWOFOLD_SECRETS_KEY is not set; deriving the secrets key from SECRET_KEY (dev only)")
    digest = hashlib.sha256(b"twofold-secrets:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(values: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(values).encode()).decode()


def unseal(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    return json.loads(_fernet().decrypt(token.encode()))
