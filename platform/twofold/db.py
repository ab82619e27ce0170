"""The declarative base, the shared SQLAlchemy handle and the tenant-owned mixin.

Every tenant-owned table carries ``tenant_id`` as the first column of its primary key,
so a record can never point at another tenant's row (foreign keys are composite and
include ``tenant_id``), and the schema can be distributed by ``tenant_id`` as it stands.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import DateTime, ForeignKey, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from uuid6 import uuid7

# Alembic needs deterministic constraint names to alter or drop them later.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    """A time-ordered UUID (v7): unguessable across tenants, yet index-friendly."""
    # uuid6 returns its own UUID subclass, which SQLAlchemy's typing of bound values does
    # not recognise; a plain uuid.UUID binds correctly on every backend.
    return uuid.UUID(int=uuid7().int)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend.

    SQLite has no timezone type, so values are stored as naive UTC and given their zone
    back on load; PostgreSQL keeps ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use twofold.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TenantSession(FlaskSession):
    """Flask-SQLAlchemy's session, with ``get`` held to the tenant scope too.

    ``Session.get`` answers from the identity map without a query when the row is already
    loaded, so the query scope never sees it: a row of another tenant loaded earlier in
    the session (by platform code, unscoped) would come back inside this tenant's scope.
    Such a row is answered as missing, as a query would answer.
    """

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        obj = super().get(entity, ident, **kwargs)
        if isinstance(obj, TenantScoped):
            from twofold.tenancy.scope import visible  # the scope module imports this one

            if not visible(obj):
                return None
        return obj


db = SQLAlchemy(model_class=Base, session_options={"class_": TenantSession})


class TenantScoped:
    """Mixin for every tenant-owned model.

    Queries on these models are filtered to the current tenant automatically and inserts
    are stamped with it (see :mod:`twofold.tenancy.scope`).
    """

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, sort_order=-20
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id, sort_order=-19)


def tenant_models() -> list[type]:
    """Every mapped class that is tenant-owned (used by the schema rule and cleanup)."""
    return [m.class_ for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)]


_WRITING: ContextVar[bool] = ContextVar("twofold_writing", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside are writers from their first statement.

    On SQLite a transaction that reads and then writes cannot take the write lock if
    another process wrote meanwhile: it fails at once with "database is locked", whatever
    the busy timeout. A path known to write (a platform's webhook) takes the lock up front
    (``BEGIN IMMEDIATE``) and queues behind other writers instead. Other databases ignore it.
    """
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


def begin_statement() -> str:
    return "BEGIN IMMEDIATE" if _WRITING.get() else "BEGIN"
