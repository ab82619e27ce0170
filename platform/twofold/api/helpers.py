"""Small helpers shared by the API modules."""

from __future__ import annotations

from flask import request

from twofold.validation import ValidationError


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["Send a JSON object."]})
    return data
