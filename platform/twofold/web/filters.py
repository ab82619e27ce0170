"""Template filters for showing values: money, numbers, moments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask


def money(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def number(value: Any) -> str:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{d.normalize():,}"


def when(value: Any) -> str:
    """A moment in UTC, to the minute: ``2026-01-05 10:30 UTC``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(number, "number")
    app.add_template_filter(when, "when")
