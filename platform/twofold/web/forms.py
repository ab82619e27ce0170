"""Form helpers: the same marshmallow validation as the API, errors shown per field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from marshmallow import ValidationError

from twofold.db import db

T = TypeVar("T")


def form_data(*names: str) -> dict[str, str]:
    """The named fields of the posted form (absent ones left out, so 'required' fires)."""
    return {name: request.form[name] for name in names if name in request.form}


def attempt(action: Callable[[], T]) -> tuple[T | None, dict[str, list[str]]]:
    """Run a service call; on a validation error roll back and return the field errors."""
    try:
        return action(), {}
    except ValidationError as exc:
        db.session.rollback()
        messages: Any = exc.messages
        if not isinstance(messages, dict):
            messages = {"_schema": messages if isinstance(messages, list) else [messages]}
        return None, messages
