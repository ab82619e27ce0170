"""Expression indexes for declared-indexed and unique fields, created when needed.

They are partial (one entity type each) and lead with ``tenant_id`` like every index.
Created with ``IF NOT EXISTS``: enabling a pack twice or two tenants adding the same field
share one index.
"""

from __future__ import annotations

from sqlalchemy import text

from twofold.db import db
from twofold.entities.columns import index_ddl
from twofold.entities.meta import EntityType, Field


def ensure_field_index(entity_type: str, field: Field) -> None:
    ddl = index_ddl(entity_type, field, db.engine.dialect.name)
    if ddl:
        db.session.execute(text(ddl))


def ensure_type_indexes(etype: EntityType) -> None:
    for field in etype.fields:
        if field.indexed or field.unique:
            ensure_field_index(etype.name, field)
