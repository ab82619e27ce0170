"""Automatic tenant scoping of every ORM statement.

The current tenant lives in a context variable: a web request sets it once the tenant is
resolved, a background job sets it from the id it carries. Every ORM SELECT, UPDATE and
DELETE touching a tenant-owned model gets ``tenant_id = :current`` added through
``with_loader_criteria``; every INSERT is stamped with the current tenant. With no tenant
in context such a statement raises instead of silently reading every tenant: leaving the
scope is the named, explicit :func:`unscoped` context manager.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from twofold.db import TenantScoped


class TenantScopeError(RuntimeError):
    """A tenant-owned table was touched with no tenant in context."""


_current_tenant: ContextVar[uuid.UUID | None] = ContextVar("twofold_tenant", default=None)
_unscoped_reason: ContextVar[str | None] = ContextVar("twofold_unscoped", default=None)


def current_tenant_id() -> uuid.UUID:
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        raise TenantScopeError("no tenant in context")
    return tenant_id


def maybe_current_tenant_id() -> uuid.UUID | None:
    return _current_tenant.get()


def _plain(tenant_id: uuid.UUID | None) -> uuid.UUID | None:
    # The id becomes a bound parameter of cached statements; UUID subclasses lose its type.
    if tenant_id is None or type(tenant_id) is uuid.UUID:
        return tenant_id
    return uuid.UUID(int=tenant_id.int)


@contextmanager
def tenant_scope(tenant_id: uuid.UUID) -> Iterator[uuid.UUID]:
    """Run the block as ``tenant_id``: every tenant-model query is limited to it."""
    tenant_id = _plain(tenant_id)
    token = _current_tenant.set(tenant_id)
    outer = _unscoped_reason.set(None)
    try:
        yield tenant_id
    finally:
        _unscoped_reason.reset(outer)
        _current_tenant.reset(token)


def enter_tenant(tenant_id: uuid.UUID | None) -> object:
    """Set the tenant for the rest of a request; returns a token for :func:`leave_tenant`."""
    return _current_tenant.set(_plain(tenant_id))


def leave_tenant(token: object) -> None:
    _current_tenant.reset(token)  # type: ignore[arg-type]


@contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """Leave the tenant scope on purpose: platform admin work, signup, cross-tenant lists.

    The reason is required so that every such place says why it needs all tenants.
    """
    if not reason:
        raise ValueError("unscoped() needs a reason")
    token = _unscoped_reason.set(reason)
    try:
        yield
    finally:
        _unscoped_reason.reset(token)


def _touches_tenant_model(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Lazy and deferred loads start from a row that was already scoped.
    if state.is_column_load or state.is_relationship_load:
        return
    if _unscoped_reason.get() is not None or not _touches_tenant_model(state):
        return
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        raise TenantScopeError(
            "query on a tenant-owned model with no tenant in context; "
            "use tenant_scope() or, for platform code, unscoped(reason)"
        )
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


def _stamp_on_add(session: Session, obj: object) -> None:
    """Stamp a new tenant-owned row when it is added, in the scope it was added in.

    Stamping at add time (not at flush) lets a service add rows inside ``tenant_scope``
    and commit after leaving it, as signup does for a brand-new tenant.
    """
    if not isinstance(obj, TenantScoped):
        return
    tenant_id = _current_tenant.get()
    if obj.tenant_id is None:
        if tenant_id is None:
            raise TenantScopeError(f"insert of {type(obj).__name__} with no tenant in context")
        obj.tenant_id = tenant_id
    elif _unscoped_reason.get() is None and obj.tenant_id != tenant_id:
        raise TenantScopeError(f"insert of {type(obj).__name__} for another tenant than the one in context")


def _check_before_flush(session: Session, flush_context: object, instances: object) -> None:
    for obj in session.new:
        if isinstance(obj, TenantScoped) and obj.tenant_id is None:
            raise TenantScopeError(f"insert of {type(obj).__name__} with no tenant")


def install() -> None:
    """Attach the scope to every ORM session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _scope_statement):
        event.listen(Session, "do_orm_execute", _scope_statement)
        event.listen(Session, "transient_to_pending", _stamp_on_add)
        event.listen(Session, "before_flush", _check_before_flush)
