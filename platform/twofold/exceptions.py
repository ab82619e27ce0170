"""Exceptions services raise and the web and API layers turn into answers."""

from __future__ import annotations

from typing import Any


class NotFound(LookupError):
    """No such thing in the current tenant, or not one the actor may see (404)."""


class Conflict(Exception):
    """The request is valid but the current state refuses it (409), with details."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
