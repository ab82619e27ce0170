"""JSON error bodies for the API: ``{"error": {"code", "message"}}`` or ``{"errors": {...}}``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


def api_error(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def validation_error(messages: dict | list | str) -> tuple[Response, int]:
    if not isinstance(messages, dict):
        messages = {"_schema": messages if isinstance(messages, list) else [messages]}
    return jsonify({"errors": messages}), 422
