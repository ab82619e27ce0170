"""Shared marshmallow pieces: one validation for the HTML forms and the JSON API.

A bad value raises :class:`marshmallow.ValidationError` with messages per field; the web
layer shows them beside the field, the API answers 422 with ``{"errors": {...}}``.
"""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from marshmallow import Schema, ValidationError, fields

__all__ = ["EmailField", "StrictSchema", "ValidationError", "field_error", "normalise_email"]


def normalise_email(value: str) -> str:
    """Syntax-checked, IDNA-normalised and lower-cased, so that dedupe finds it."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(str(exc)) from exc
    return result.normalized.lower()


class EmailField(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return normalise_email(super()._deserialize(value, attr, data, **kwargs))


class StrictSchema(Schema):
    """Unknown keys are an error: a typo in a field name must not be silently dropped."""

    class Meta:
        unknown = "raise"


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})
