"""SQL expressions for a field's value, whether it lives in a typed column or the JSON.

Paths into the JSON document are written as literals (field names are validated
identifiers), so that the expression indexes created for indexed fields match the
expressions queries use.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Numeric, cast, literal_column
from sqlalchemy.sql.elements import ColumnElement

from twofold.entities.meta import Field
from twofold.entities.models import Record

TYPED = {"title": Record.title, "amount": Record.amount, "currency": Record.currency, "status": Record.status}
NUMERIC_TYPES = {"number", "money"}


def _json_sql(name: str, dialect: str, table: str = "records.") -> str:
    if dialect == "postgresql":
        return f"({table}data ->> '{name}')"
    return f"json_extract({table}data, '$.{name}')"


def _json_text(name: str, dialect: str) -> ColumnElement:
    return literal_column(_json_sql(name, dialect))


def field_expr(field: Field, dialect: str) -> ColumnElement:
    """The value of ``field`` as SQL, typed for comparison and sorting."""
    if field.column in TYPED:
        return TYPED[field.column]
    expr = _json_text(field.name, dialect)
    if field.type in NUMERIC_TYPES:
        return cast(expr, Numeric)
    return expr


def index_name(entity_type: str, field_name: str) -> str:
    base = f"ix_records_f_{entity_type}_{field_name}"
    if len(base) <= 60:
        return base
    return f"ix_records_f_{hashlib.sha1(base.encode()).hexdigest()[:16]}"


def index_ddl(entity_type: str, field: Field, dialect: str) -> str | None:
    """``CREATE INDEX`` for a declared-indexed field: tenant first, one type only."""
    if field.column in TYPED or field.type == "multi_choice":
        return None
    expr = _json_sql(field.name, dialect, table="")
    if dialect == "postgresql" and field.type in NUMERIC_TYPES:
        expr = f"(({expr})::numeric)"
    elif dialect != "postgresql" and field.type in NUMERIC_TYPES:
        expr = f"CAST({expr} AS NUMERIC)"
    name = index_name(entity_type, field.name)
    return (
        f"CREATE INDEX IF NOT EXISTS {name} ON records (tenant_id, {expr}) "
        f"WHERE entity_type = '{entity_type}'"
    )
