"""Relations between records, each with a role: a contact is a deal's signer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from twofold.auth.permissions import require
from twofold.db import db
from twofold.entities import service
from twofold.entities.models import Record, Relation
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.tenancy.scope import current_tenant_id
from twofold.validation import field_error


@dataclass(frozen=True)
class Related:
    relation: Relation
    record: Record


def relate(type_name: str, record_id: uuid.UUID, role: str, to_id: uuid.UUID) -> Relation:
    require("records.edit")
    etype = registry.entity_type(type_name)
    record = service.get(type_name, record_id)
    declared = {r.name: r for r in etype.relations}
    if role not in declared:
        raise field_error(
            "role", f"{etype.label} has no role {role!r}; roles: {', '.join(declared) or 'none'}."
        )
    target = db.session.get(Record, (current_tenant_id(), to_id))
    if target is None or target.deleted_at is not None or target.entity_type != declared[role].to_type:
        raise field_error("to_id", f"No such {declared[role].to_type}.")
    existing = db.session.scalar(
        db.select(Relation).where(
            Relation.from_id == record.id, Relation.to_id == to_id, Relation.role == role
        )
    )
    if existing is not None:
        return existing
    relation = Relation(from_id=record.id, to_id=to_id, role=role, created_by=service.current_actor().user_id)
    db.session.add(relation)
    service.record_activity(record, "related", {"role": role, "to": str(to_id), "title": target.title})
    return relation


def unrelate(type_name: str, record_id: uuid.UUID, relation_id: uuid.UUID) -> None:
    require("records.edit")
    record = service.get(type_name, record_id)
    relation = db.session.get(Relation, (current_tenant_id(), relation_id))
    if relation is None or relation.from_id != record.id:
        raise NotFound(str(relation_id))
    db.session.delete(relation)
    service.record_activity(record, "unrelated", {"role": relation.role, "to": str(relation.to_id)})


def related(record: Record) -> list[Related]:
    """Records related to this one (both directions), not deleted."""
    rows = db.session.execute(
        db.select(Relation, Record)
        .join(Record, Record.id == Relation.to_id)
        .where(Relation.from_id == record.id, Record.deleted_at.is_(None))
        .order_by(Relation.role, Record.title)
    )
    return [Related(rel, rec) for rel, rec in rows]


def related_to(record: Record) -> list[Related]:
    """Records that point at this one (a contact's deals)."""
    rows = db.session.execute(
        db.select(Relation, Record)
        .join(Record, Record.id == Relation.from_id)
        .where(Relation.to_id == record.id, Record.deleted_at.is_(None))
        .order_by(Record.title)
    )
    return [Related(rel, rec) for rel, rec in rows]
