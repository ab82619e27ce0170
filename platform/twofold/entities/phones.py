"""Phone numbers normalised to E.164, so that dedupe and matching find them."""

from __future__ import annotations

import phonenumbers
from flask import current_app, has_app_context
from marshmallow import ValidationError


def normalise_phone(value: str, region: str | None = None) -> str:
    if region is None and has_app_context():
        region = current_app.config.get("PHONE_DEFAULT_REGION")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("Not a phone number; include the country code, e.g. +7 912 345 67 89.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("This phone number is not valid.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
