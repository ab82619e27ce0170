"""Read-only look-ups that pages need to show records: titles of referenced records, the
emails of users, the tenant's members as choices for a ``user`` field or the owner.

Each is one query for a whole page (never one per row), scoped to the current tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from twofold.auth.models import Membership, User
from twofold.auth.permissions import require
from twofold.db import db
from twofold.entities.models import Record


@dataclass(frozen=True)
class RecordRef:
    id: uuid.UUID
    entity_type: str
    title: str
    deleted: bool


def _ids(values: Iterable[object]) -> set[uuid.UUID]:
    out = set()
    for value in values:
        if isinstance(value, uuid.UUID):
            out.add(value)
        elif value:
            try:
                out.add(uuid.UUID(str(value)))
            except ValueError:
                continue
    return out


def record_refs(ids: Iterable[object]) -> dict[str, RecordRef]:
    """Titles of the given records, keyed by the id as a string (how values store it)."""
    wanted = _ids(ids)
    if not wanted:
        return {}
    require("records.view")
    rows = db.session.execute(
        db.select(Record.id, Record.entity_type, Record.title, Record.deleted_at).where(Record.id.in_(wanted))
    )
    return {str(r.id): RecordRef(r.id, r.entity_type, r.title, r.deleted_at is not None) for r in rows}


def user_emails(ids: Iterable[object]) -> dict[str, str]:
    """Emails of the given users who are members of the current tenant, keyed by id string."""
    wanted = _ids(ids)
    if not wanted:
        return {}
    rows = db.session.execute(
        db.select(User.id, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id.in_(wanted))
    )
    return {str(user_id): email for user_id, email in rows}


def member_choices() -> list[tuple[str, str]]:
    """``(user id, email)`` of every member, for pickers; any member may see them."""
    require("records.view")
    rows = db.session.execute(
        db.select(User.id, User.email).join(Membership, Membership.user_id == User.id).order_by(User.email)
    )
    return [(str(user_id), email) for user_id, email in rows]
