"""HMAC-SHA256 signatures of inbound hooks: ``X-Twofold-Signature: sha256=<hex>``."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Twofold-Signature"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def valid(secret: str | None, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode())
