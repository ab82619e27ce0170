"""Automatic tenant scoping of every ORM statement.

The current tenant lives in a context variable: a web request sets it once the tenant is
resolved, a background job sets it from the id it carries. Every ORM SELECT, UPDATE and
DELETE gets ``tenant_id = :current`` added through ``with_loader_criteria`` for each
tenant-owned model it touches, wherever that model appears: the selected entities, a
``select_from``, a join, a subquery, an ``EXISTS``, a CTE, a relationship load. Every
INSERT is stamped with the current tenant, and a row may neither be written for another
tenant nor moved to one. With no tenant in context such a statement raises instead of
silently reading every tenant: leaving the scope is the named, explicit :func:`unscoped`
context manager.

``Session.get`` answers from the identity map without a query when the row is already
loaded; :class:`twofold.db.TenantSession` checks such rows with :func:`visible`. Last, a
tenant-owned row that becomes an object outside :func:`unscoped` must belong to the
current tenant (:func:`_check_loaded`), whatever path the statement took.

Raw SQL (``text()``) is not scoped: it is for DDL and platform maintenance only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import visitors

from twofold.db import TenantScoped


class TenantScopeError(RuntimeError):
    """A tenant-owned table was touched with no tenant in context, or for another tenant."""


_current_tenant: ContextVar[uuid.UUID | None] = ContextVar("twofold_tenant", default=None)
_unscoped_reason: ContextVar[str | None] = ContextVar("twofold_unscoped", default=None)

# Where a pending row remembers the tenant it was added for (InstanceState.info).
_ADDED_FOR = "twofold.added_for_tenant"


def current_tenant_id() -> uuid.UUID:
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        raise TenantScopeError("no tenant in context")
    return tenant_id


def maybe_current_tenant_id() -> uuid.UUID | None:
    return _current_tenant.get()


@contextmanager
def tenant_scope(tenant_id: uuid.UUID) -> Iterator[uuid.UUID]:
    """Run the block as ``tenant_id``: every tenant-model query is limited to it."""
    token = _current_tenant.set(tenant_id)
    outer = _unscoped_reason.set(None)
    try:
        yield tenant_id
    finally:
        _unscoped_reason.reset(outer)
        _current_tenant.reset(token)


def enter_tenant(tenant_id: uuid.UUID | None) -> object:
    """Set the tenant for the rest of a request; returns a token for :func:`leave_tenant`."""
    return _current_tenant.set(tenant_id)


def leave_tenant(token: object) -> None:
    _current_tenant.reset(token)  # type: ignore[arg-type]


@contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """Leave the tenant scope on purpose: platform admin work, signup, cross-tenant lists.

    The reason is required so that every such place says why it needs all tenants.
    """
    if not reason or not reason.strip():
        raise ValueError("unscoped() needs a reason")
    token = _unscoped_reason.set(reason)
    try:
        yield
    finally:
        _unscoped_reason.reset(token)


def visible(obj: TenantScoped) -> bool:
    """Whether a loaded tenant-owned row belongs to the scope in context.

    Raises :class:`TenantScopeError` with no tenant in context (and not unscoped), like a
    query would.
    """
    if _unscoped_reason.get() is not None:
        return True
    return obj.tenant_id == _required_tenant(f"access to {type(obj).__name__}")


def _required_tenant(what: str) -> uuid.UUID:
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        raise TenantScopeError(
            f"{what}: a tenant-owned model with no tenant in context; "
            "use tenant_scope() or, for platform code, unscoped(reason)"
        )
    return tenant_id


def _is_tenant_table(table: Table) -> bool:
    # The schema rule (tests/test_schema_rule.py) makes tenant_id the mark of a tenant table.
    return "tenant_id" in table.c


def _touches_tenant_table(statement: Any) -> bool:
    """Whether a tenant table appears anywhere in the statement (joins, subqueries…)."""
    return any(
        isinstance(element, Table) and _is_tenant_table(element) for element in visitors.iterate(statement)
    )


def _targets_tenant_model(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


def _scope_statement(state: ORMExecuteState) -> None:
    if state.is_insert:
        _guard_insert(state)
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Refreshing expired columns reloads one row by its full primary key, which holds
    # its tenant_id: it cannot reach another tenant. Relationship loads are scoped like
    # any query, because their parent may be a platform-wide row (a user, a tenant).
    if state.is_column_load:
        return
    if _unscoped_reason.get() is not None:
        return
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        if _touches_tenant_table(state.statement):
            _required_tenant("query")
        return
    if (state.is_update or state.is_delete) and _targets_tenant_model(state):
        _guard_rows(state, tenant_id)
        if any(value != tenant_id for value in _statement_tenant_values(state.statement)):
            raise TenantScopeError("an UPDATE may not move rows to another tenant")
    # Added to every statement (a no-op where no tenant model appears): all_mappers only
    # names the selected entities, not a model in a join, a subquery or a select_from.
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


def _guard_insert(state: ORMExecuteState) -> None:
    if _unscoped_reason.get() is not None or not _targets_tenant_model(state):
        return
    tenant_id = _required_tenant("insert")
    _guard_rows(state, tenant_id)
    if any(value != tenant_id for value in _statement_tenant_values(state.statement)):
        raise TenantScopeError("insert for another tenant than the one in context")


def _guard_rows(state: ORMExecuteState, tenant_id: uuid.UUID) -> None:
    """Stamp and check the rows of an ORM bulk statement (one dict per row).

    ``update(Model)`` with a list of dicts updates by primary key and ignores the loader
    criteria, so the tenant_id of each key is checked here.
    """
    params = state.parameters
    if isinstance(params, list):
        rows = params
    elif state.is_insert and params:
        rows = [params]  # session.execute(insert(Model), {...}): one row
    else:
        return  # bind values of a criteria statement, not rows
    checked = []
    for row in rows:
        given = row.get("tenant_id")
        if given is None:
            row = {**row, "tenant_id": tenant_id}
        elif given != tenant_id:
            raise TenantScopeError("a bulk statement names a row of another tenant than the one in context")
        checked.append(row)
    state.parameters = checked if isinstance(params, list) else checked[0]


def _statement_tenant_values(statement: Any) -> list[Any]:
    """The tenant_id values an INSERT or UPDATE sets in its own ``.values(...)``.

    SQLAlchemy has no public accessor for them; ``_values`` and ``_multi_values`` are
    where ``ValuesBase`` keeps them.
    """
    rows: list[Any] = []
    if getattr(statement, "_values", None):
        rows.append(statement._values)
    for batch in getattr(statement, "_multi_values", ()) or ():
        rows.extend(batch)
    found = []
    for row in rows:
        items = row.items() if isinstance(row, dict) else zip(statement.table.c, row, strict=False)
        for key, value in items:
            if getattr(key, "key", key) == "tenant_id":
                found.append(getattr(value, "value", value))
    return found


def _stamp_on_add(session: Session, obj: object) -> None:
    """Stamp a new tenant-owned row when it is added, in the scope it was added in.

    Stamping at add time (not at flush) lets a service add rows inside ``tenant_scope``
    and commit after leaving it, as signup does for a brand-new tenant. The tenant is
    remembered on the row, so that a ``tenant_id`` changed before the flush is caught.
    """
    if not isinstance(obj, TenantScoped):
        return
    unscoped_now = _unscoped_reason.get() is not None
    if obj.tenant_id is None:
        obj.tenant_id = _required_tenant(f"insert of {type(obj).__name__}")
    elif not unscoped_now and obj.tenant_id != _current_tenant.get():
        raise TenantScopeError(f"insert of {type(obj).__name__} for another tenant than the one in context")
    if not unscoped_now:
        inspect(obj).info[_ADDED_FOR] = obj.tenant_id


def _check_before_flush(session: Session, flush_context: object, instances: object) -> None:
    unscoped_now = _unscoped_reason.get() is not None
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            raise TenantScopeError(f"insert of {type(obj).__name__} with no tenant")
        # Recorded only when added inside a scope; unscoped() at flush time does not excuse it.
        added_for = inspect(obj).info.get(_ADDED_FOR)
        if added_for is not None and obj.tenant_id != added_for:
            raise TenantScopeError(
                f"{type(obj).__name__} was added for one tenant, then its tenant_id was changed"
            )
    if unscoped_now:
        return
    for obj in session.dirty:
        if isinstance(obj, TenantScoped) and inspect(obj).attrs.tenant_id.history.deleted:
            raise TenantScopeError(f"a {type(obj).__name__} row cannot move to another tenant")


def _check_loaded(obj: TenantScoped, _context: object) -> None:
    """The last wall: a tenant-owned row that becomes an object must be the current tenant's.

    The criteria cannot reach every path (an eager join named only in loader options with
    no tenant in context, a textual statement mapped to a model); such a row is refused.
    """
    if _unscoped_reason.get() is not None:
        return
    if obj.tenant_id != _required_tenant(f"load of {type(obj).__name__}"):
        raise TenantScopeError(f"a {type(obj).__name__} row of another tenant was loaded in this scope")


def install() -> None:
    """Attach the scope to every ORM session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _scope_statement):
        event.listen(Session, "do_orm_execute", _scope_statement)
        event.listen(Session, "transient_to_pending", _stamp_on_add)
        event.listen(Session, "before_flush", _check_before_flush)
        event.listen(TenantScoped, "load", _check_loaded, propagate=True)


def owned(model: type[Any], ident: uuid.UUID | None) -> Any:
    """``session.get`` by a tenant-owned row's own id, in the current tenant (or ``None``)."""
    from twofold.db import db

    if ident is None:
        return None
    return db.session.get(model, (current_tenant_id(), ident))
