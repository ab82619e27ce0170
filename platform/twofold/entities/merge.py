"""Merging a duplicate into a survivor: relations, timeline and stage history move over.

The survivor keeps its own values and takes the duplicate's where its own are blank. The
duplicate is retired (marked merged, in the trash), never hard-deleted.
"""

from __future__ import annotations

import uuid

from twofold.auth import security_log
from twofold.auth.permissions import require
from twofold.db import db, utcnow
from twofold.entities import schemas
from twofold.entities import service as records
from twofold.entities.models import Activity, Record, Relation
from twofold.packs import registry
from twofold.pipelines.models import StageChange
from twofold.validation import field_error


def _move_relations(duplicate: Record, survivor: Record) -> int:
    moved = 0
    for column in (Relation.from_id, Relation.to_id):
        for relation in list(db.session.scalars(db.select(Relation).where(column == duplicate.id))):
            new_from = survivor.id if column is Relation.from_id else relation.from_id
            new_to = survivor.id if column is Relation.to_id else relation.to_id
            clash = new_from == new_to or db.session.scalar(
                db.select(Relation.id).where(
                    Relation.from_id == new_from, Relation.to_id == new_to, Relation.role == relation.role
                )
            )
            if clash:
                db.session.delete(relation)
            else:
                relation.from_id, relation.to_id = new_from, new_to
                moved += 1
            db.session.flush()
    return moved


def merge(type_name: str, survivor_id: uuid.UUID, duplicate_id: uuid.UUID) -> Record:
    actor = require("records.merge")
    if survivor_id == duplicate_id:
        raise field_error("duplicate_id", "A record cannot be merged into itself.")
    etype = registry.entity_type(type_name)
    survivor = records.get(type_name, survivor_id)
    try:
        duplicate = records.get(type_name, duplicate_id)
    except records.RecordNotFound:
        raise field_error("duplicate_id", f"No such {etype.label.lower()}.") from None

    kept, taken = records.values(etype, survivor), records.values(etype, duplicate)
    fill = {
        f.name: taken[f.name]
        for f in etype.fields
        if schemas.blank(kept.get(f.name)) and not schemas.blank(taken.get(f.name))
    }
    # The duplicate leaves first, so its unique values may pass to the survivor.
    duplicate.merged_into, duplicate.deleted_at = survivor.id, utcnow()
    db.session.flush()
    if fill:
        clean = schemas.load(etype, fill, partial=True)
        records.apply_values(etype, survivor, clean)

    moved_relations = _move_relations(duplicate, survivor)
    db.session.execute(
        db.update(Activity).where(Activity.record_id == duplicate.id).values(record_id=survivor.id)
    )
    db.session.execute(
        db.update(StageChange).where(StageChange.record_id == duplicate.id).values(record_id=survivor.id)
    )
    if survivor.owner_id is None:
        survivor.owner_id = duplicate.owner_id
    survivor.updated_at = utcnow()
    records.record_activity(
        survivor,
        "merged",
        {
            "duplicate": str(duplicate.id),
            "title": duplicate.title,
            "filled": sorted(fill),
            "relations": moved_relations,
        },
    )
    security_log.record(
        "record.merged", user_id=actor.user_id, survivor=str(survivor.id), duplicate=str(duplicate.id)
    )
    return survivor
