"""The automatic tenant scope (twofold.tenancy.scope), checked against a real database.

Nobody has to remember a ``tenant_id`` filter: inside ``tenant_scope(A)`` every ORM
statement sees and changes A's rows only, wherever the tenant-owned model appears in it
(selected, joined, in a subquery, behind a relationship). Outside any scope a query on a
tenant-owned model raises, so a forgotten scope is a crash and not a leak. Each test sets
up two tenants with real data and checks that B's rows are out of A's reach, then reads
the database unscoped, with explicit filters, to compare against the truth.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import ForeignKey, MetaData, String, exists, func, insert, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    aliased,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)

from tests.support.factories import TenantHandle, invite_and_join, signup
from twofold.auth.models import ApiToken, Membership, SecurityEvent, User
from twofold.db import TenantScoped, db, new_id, utcnow
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import TenantScopeError, tenant_scope, unscoped

SCOPED_MODELS = [Membership, ApiToken, SecurityEvent]


@dataclass(frozen=True)
class Pair:
    a: TenantHandle
    b: TenantHandle


@pytest.fixture
def pair(app: Flask) -> Iterator[Pair]:
    """Tenant A (two members, an extra token) and tenant B, built through the API; then an
    app context with a clean session for the test (pushed only after the requests, which
    must not share the test's session)."""
    a = signup(app, "alpha")
    b = signup(app, "bravo")
    invite_and_join(app, a, "agent@alpha.example.com", "agent")
    response = app.test_client().post("/api/v1/tokens", json={"name": "alpha sync"}, headers=a.api())
    assert response.status_code == 201
    with app.app_context():
        yield Pair(a, b)
        db.session.remove()


def truth(model: type, tenant_id: uuid.UUID) -> set[uuid.UUID]:
    """The ids of a tenant's rows, read unscoped with an explicit filter."""
    with unscoped("test: the expected answer"):
        return set(db.session.scalars(select(model.id).where(model.tenant_id == tenant_id)))


def snapshot(model: type, tenant_id: uuid.UUID | None = None) -> list[tuple]:
    """Every row of a table (or of one tenant's part of it), every column, for comparisons."""
    query = select(model.__table__)
    if tenant_id is not None:
        query = query.where(model.__table__.c.tenant_id == tenant_id)
    with unscoped("test: snapshot"):
        return sorted(tuple(str(v) for v in row) for row in db.session.execute(query))


# --- reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_a_select_in_a_scope_returns_only_that_tenants_rows(pair, model):
    expected_a, expected_b = truth(model, pair.a.tenant_id), truth(model, pair.b.tenant_id)
    assert expected_a and expected_b, "both tenants need rows for the test to mean anything"
    # A, then B, then A again: a cached statement must not keep the first tenant's id.
    for tenant_id, expected in [
        (pair.a.tenant_id, expected_a), (pair.b.tenant_id, expected_b), (pair.a.tenant_id, expected_a)
    ]:
        with tenant_scope(tenant_id):
            rows = db.session.scalars(select(model)).all()
            assert {r.id for r in rows} == expected
            assert {r.tenant_id for r in rows} == {tenant_id}
            assert db.session.scalar(select(func.count(model.id))) == len(expected)
            assert db.session.query(model).count() == len(expected)  # the legacy Query too


# Statements where the tenant model is not a selected entity: each is run in A's scope
# and must give the same answer as the explicit filter ``tenant_id == A``.
HIDDEN = {
    "count over select_from": (
        lambda: select(func.count()).select_from(Membership),
        lambda t: select(func.count()).select_from(Membership).where(Membership.tenant_id == t),
    ),
    "global model joined to a tenant model": (
        lambda: select(User.email).join(Membership, Membership.user_id == User.id),
        lambda t: select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == t),
    ),
    "tenant table joined from tenants": (
        lambda: select(Tenant.slug).join(Membership, Membership.tenant_id == Tenant.id),
        lambda t: select(Tenant.slug).join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.tenant_id == t),
    ),
    "IN subquery": (
        lambda: select(User.email).where(User.id.in_(select(ApiToken.user_id))),
        lambda t: select(User.email).where(
            User.id.in_(select(ApiToken.user_id).where(ApiToken.tenant_id == t))
        ),
    ),
    "EXISTS": (
        lambda: select(User.email).where(exists().where(SecurityEvent.user_id == User.id)),
        lambda t: select(User.email).where(
            exists().where(SecurityEvent.user_id == User.id, SecurityEvent.tenant_id == t)
        ),
    ),
    "CTE": (
        lambda: (lambda c: select(User.email).join(c, c.c.user_id == User.id))(
            select(Membership.user_id).cte()
        ),
        lambda t: (lambda c: select(User.email).join(c, c.c.user_id == User.id))(
            select(Membership.user_id).where(Membership.tenant_id == t).cte()
        ),
    ),
    "UNION of two tenant models": (
        lambda: select(Membership.id).union_all(select(ApiToken.id)),
        lambda t: select(Membership.id).where(Membership.tenant_id == t)
        .union_all(select(ApiToken.id).where(ApiToken.tenant_id == t)),
    ),
    "aliased entity": (
        lambda: select(aliased(SecurityEvent).id),
        lambda t: select(SecurityEvent.id).where(SecurityEvent.tenant_id == t),
    ),
}


@pytest.mark.parametrize("name", HIDDEN)
def test_a_tenant_model_is_scoped_wherever_it_appears_in_a_statement(pair, name):
    scoped, explicit = HIDDEN[name]
    with unscoped("test: the expected answer"):
        expected = sorted(map(str, db.session.execute(explicit(pair.a.tenant_id)).all()))
        everyone = sorted(map(str, db.session.execute(scoped()).all()))
    assert expected != everyone, "B's rows must be able to change the answer"
    with tenant_scope(pair.a.tenant_id):
        assert sorted(map(str, db.session.execute(scoped()).all())) == expected


@pytest.mark.parametrize("name", HIDDEN)
def test_any_statement_touching_a_tenant_model_raises_outside_a_scope(pair, name):
    scoped, _explicit = HIDDEN[name]
    with pytest.raises(TenantScopeError):
        db.session.execute(scoped()).all()


def test_a_query_on_a_tenant_model_without_a_tenant_raises(pair):
    for model in SCOPED_MODELS:
        with pytest.raises(TenantScopeError):
            db.session.scalars(select(model)).all()
    with pytest.raises(TenantScopeError):
        db.session.execute(db.update(SecurityEvent).values(kind="x"))
    db.session.rollback()
    with pytest.raises(TenantScopeError):
        db.session.execute(db.delete(ApiToken))
    db.session.rollback()
    with pytest.raises(TenantScopeError):
        db.session.add(SecurityEvent(kind="x", detail={}))
    db.session.rollback()
    # Platform tables need no tenant.
    assert db.session.scalar(select(func.count()).select_from(Tenant)) == 2


def test_unscoped_sees_every_tenant_and_needs_a_reason(pair):
    with unscoped("test: platform-wide count"):
        tenants = set(db.session.scalars(select(Membership.tenant_id)))
    assert tenants == {pair.a.tenant_id, pair.b.tenant_id}
    for reason in ("", "   "):
        with pytest.raises(ValueError), unscoped(reason):
            pass
    # Leaving unscoped() restores the scope around it, and tenant_scope() inside it re-scopes.
    with tenant_scope(pair.a.tenant_id):
        with unscoped("test: nested"), tenant_scope(pair.b.tenant_id):
            assert set(db.session.scalars(select(Membership.tenant_id))) == {pair.b.tenant_id}
        assert set(db.session.scalars(select(Membership.tenant_id))) == {pair.a.tenant_id}
    with pytest.raises(TenantScopeError):
        db.session.scalars(select(Membership)).all()


# --- session.get ------------------------------------------------------------------------


def test_get_with_another_tenants_key_returns_none(pair):
    b_membership = next(iter(truth(Membership, pair.b.tenant_id)))
    a_membership = next(iter(truth(Membership, pair.a.tenant_id)))
    db.session.expunge_all()
    with tenant_scope(pair.a.tenant_id):
        assert db.session.get(Membership, (pair.b.tenant_id, b_membership)) is None
        assert db.session.get(Membership, (pair.a.tenant_id, a_membership)) is not None


def test_get_does_not_hand_out_another_tenants_row_already_in_the_session(pair):
    """``get`` answers from the identity map without a query: platform code that loaded
    B's row earlier in the same session must not make it visible in A's scope."""
    with unscoped("test: platform code loads B's membership"):
        b_row = db.session.scalars(
            select(Membership).where(Membership.tenant_id == pair.b.tenant_id)
        ).first()
    key = (b_row.tenant_id, b_row.id)
    with tenant_scope(pair.a.tenant_id):
        assert db.session.get(Membership, key) is None
        with pytest.raises(Exception, match="No row was found"):
            db.session.get_one(Membership, key)
    with tenant_scope(pair.b.tenant_id):
        assert db.session.get(Membership, key) is b_row
    with pytest.raises(TenantScopeError):
        db.session.get(Membership, key)


# --- writing ----------------------------------------------------------------------------


def test_orm_bulk_update_and_delete_in_a_scope_never_touch_another_tenant(pair):
    b_before = {m.__name__: snapshot(m, pair.b.tenant_id) for m in SCOPED_MODELS}
    a_events, a_tokens = truth(SecurityEvent, pair.a.tenant_id), truth(ApiToken, pair.a.tenant_id)
    with tenant_scope(pair.a.tenant_id):
        result = db.session.execute(db.update(SecurityEvent).values(kind="rewritten"))
        assert result.rowcount == len(a_events)
        db.session.execute(
            db.update(User).where(User.id.in_(select(Membership.user_id))).values(name="Alpha person")
        )
        result = db.session.execute(db.delete(ApiToken))
        assert result.rowcount == len(a_tokens)
        db.session.commit()
    assert {m.__name__: snapshot(m, pair.b.tenant_id) for m in SCOPED_MODELS} == b_before
    with unscoped("test"):
        kinds = db.session.scalars(
            select(SecurityEvent.kind).where(SecurityEvent.tenant_id == pair.a.tenant_id)
        )
        assert set(kinds) == {"rewritten"}
        assert db.session.get(User, pair.b.user_id).name == ""
        assert db.session.get(User, pair.a.user_id).name == "Alpha person"
    assert truth(ApiToken, pair.a.tenant_id) == set()


def test_bulk_update_by_primary_key_cannot_name_another_tenants_row(pair):
    """``session.execute(update(Model), [rows])`` updates by primary key and bypasses the
    loader criteria; the scope checks each row's tenant_id instead."""
    b_event = next(iter(truth(SecurityEvent, pair.b.tenant_id)))
    before = snapshot(SecurityEvent, pair.b.tenant_id)
    with tenant_scope(pair.a.tenant_id):
        with pytest.raises(TenantScopeError):
            db.session.execute(
                db.update(SecurityEvent), [{"tenant_id": pair.b.tenant_id, "id": b_event, "kind": "x"}]
            )
        db.session.rollback()
        a_event = next(iter(truth(SecurityEvent, pair.a.tenant_id)))
        db.session.execute(db.update(SecurityEvent), [{"id": a_event, "kind": "by key"}])
        db.session.commit()
    assert snapshot(SecurityEvent, pair.b.tenant_id) == before
    with unscoped("test"):
        assert db.session.get(SecurityEvent, (pair.a.tenant_id, a_event)).kind == "by key"


def test_rows_cannot_be_moved_to_another_tenant(pair):
    before = snapshot(SecurityEvent)
    with tenant_scope(pair.a.tenant_id):
        with pytest.raises(TenantScopeError):
            db.session.execute(db.update(SecurityEvent).values(tenant_id=pair.b.tenant_id))
        db.session.rollback()
        event = db.session.scalars(select(SecurityEvent)).first()
        event.tenant_id = pair.b.tenant_id
        with pytest.raises(TenantScopeError):
            db.session.flush()
        db.session.rollback()
    assert snapshot(SecurityEvent) == before


def test_inserts_are_stamped_with_the_current_tenant(pair):
    with tenant_scope(pair.a.tenant_id):
        event = SecurityEvent(kind="stamped", detail={})
        db.session.add(event)
        assert event.tenant_id == pair.a.tenant_id  # at add time, before any flush
        db.session.execute(insert(SecurityEvent), [{"kind": "bulk stamped", "detail": {}}])
    db.session.commit()  # after leaving the scope, as signup does
    with unscoped("test"):
        rows = db.session.execute(
            select(SecurityEvent.kind, SecurityEvent.tenant_id)
            .where(SecurityEvent.kind.in_(["stamped", "bulk stamped"]))
        ).all()
    assert sorted(rows) == [("bulk stamped", pair.a.tenant_id), ("stamped", pair.a.tenant_id)]


WRONG_TENANT_INSERTS = {
    "add() with the other tenant's id": lambda b: db.session.add(
        SecurityEvent(tenant_id=b, kind="planted", detail={})
    ),
    "tenant_id changed after add()": lambda b: _add_then_retarget(b),
    "ORM bulk insert": lambda b: db.session.execute(
        insert(SecurityEvent), [{"tenant_id": b, "kind": "planted", "detail": {}}]
    ),
    "insert().values()": lambda b: db.session.execute(
        insert(SecurityEvent).values(tenant_id=b, id=new_id(), at=utcnow(), kind="planted", detail={})
    ),
}


def _add_then_retarget(b: uuid.UUID) -> None:
    event = SecurityEvent(kind="planted", detail={})
    db.session.add(event)
    event.tenant_id = b
    db.session.flush()


@pytest.mark.parametrize("name", WRONG_TENANT_INSERTS)
def test_writing_a_row_for_another_tenant_inside_a_scope_raises(pair, name):
    before = snapshot(SecurityEvent)
    with tenant_scope(pair.a.tenant_id), pytest.raises(TenantScopeError):
        WRONG_TENANT_INSERTS[name](pair.b.tenant_id)
    db.session.rollback()
    assert snapshot(SecurityEvent) == before
    # Platform code may do it on purpose.
    with tenant_scope(pair.a.tenant_id), unscoped("test: platform writes for tenant B"):
        db.session.add(SecurityEvent(tenant_id=pair.b.tenant_id, kind="on purpose", detail={}))
        db.session.commit()
    assert len(snapshot(SecurityEvent)) == len(before) + 1


# --- relationships ----------------------------------------------------------------------
# The platform models have no relationship() yet; the entity engine will. A throwaway
# pair of models in their own metadata shows the hard case: a platform-wide parent
# (which no tenant filter applies to) with tenant-owned children.


class _ThrowawayBase(DeclarativeBase):
    metadata = MetaData()


Tenant.__table__.to_metadata(_ThrowawayBase.metadata)  # so the children's FK resolves


class Topic(_ThrowawayBase):
    __tablename__ = "zz_scope_test_topics"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    notes: Mapped[list[Note]] = relationship(back_populates="topic")


class Note(TenantScoped, _ThrowawayBase):
    __tablename__ = "zz_scope_test_notes"

    topic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("zz_scope_test_topics.id"))
    body: Mapped[str] = mapped_column(String(50))
    topic: Mapped[Topic] = relationship(back_populates="notes")


@pytest.fixture
def topic(pair) -> Iterator[uuid.UUID]:
    """One shared topic with a note from each tenant."""
    tables = [Topic.__table__, Note.__table__]
    _ThrowawayBase.metadata.create_all(db.engine, tables=tables)
    try:
        topic = Topic()
        db.session.add(topic)
        db.session.flush()
        topic_id = topic.id
        for handle in (pair.a, pair.b):
            with tenant_scope(handle.tenant_id):
                db.session.add(Note(topic_id=topic_id, body=handle.slug))
        db.session.commit()
        db.session.expunge_all()
        yield topic_id
    finally:
        db.session.remove()
        _ThrowawayBase.metadata.drop_all(db.engine, tables=tables)


LOADS = {
    "lazy load": lambda topic_id: db.session.get(Topic, topic_id).notes,
    "selectinload": lambda topic_id: db.session.scalars(
        select(Topic).options(selectinload(Topic.notes))
    ).one().notes,
    "joinedload": lambda topic_id: db.session.scalars(
        select(Topic).options(joinedload(Topic.notes))
    ).unique().one().notes,
    "join on the relationship": lambda topic_id: db.session.scalars(
        select(Note).join(Note.topic).where(Topic.id == topic_id)
    ).all(),
}


@pytest.mark.parametrize("name", LOADS)
def test_relationship_loads_from_a_platform_wide_parent_are_scoped(topic, pair, name):
    for handle in (pair.a, pair.b):
        db.session.expunge_all()
        with tenant_scope(handle.tenant_id):
            assert [n.body for n in LOADS[name](topic)] == [handle.slug]
    db.session.expunge_all()
    with pytest.raises(TenantScopeError):
        list(LOADS[name](topic))


def test_relationship_filters_in_a_scope_do_not_reveal_another_tenants_rows(topic, pair):
    with tenant_scope(pair.a.tenant_id):
        assert db.session.scalar(select(func.count()).where(Topic.notes.any(Note.body == "bravo"))) == 0
        assert db.session.scalar(select(func.count()).where(Topic.notes.any(Note.body == "alpha"))) == 1
