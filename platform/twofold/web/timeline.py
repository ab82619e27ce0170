"""A record's timeline as people read it: who, when, what (field: old → new)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from twofold.entities.meta import EntityType, Field
from twofold.entities.models import Activity
from twofold.web.record_forms import OWNER


@dataclass(frozen=True)
class Change:
    field: Field | None
    label: str
    old: Any
    new: Any
    initial: bool = False  # a value the record was created with: no "old"


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    who: str
    text: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""


def _field(etype: EntityType, name: str) -> Field | None:
    return OWNER if name == "owner_id" else etype.field(name)


def _changes(etype: EntityType, raw: dict[str, Any], *, created: bool) -> list[Change]:
    out = []
    for name, value in raw.items():
        f = _field(etype, name)
        label = f.display_label if f else name
        if created:
            out.append(Change(f, label, None, value, initial=True))
        elif isinstance(value, list) and len(value) == 2:
            out.append(Change(f, label, value[0], value[1]))
    return out


def _role_label(etype: EntityType, role: str) -> str:
    declared = next((r for r in etype.relations if r.name == role), None)
    return declared.display_label.lower() if declared else role.replace("_", " ")


def entry(etype: EntityType, activity: Activity, who: str) -> Entry:
    c = activity.changes or {}
    kind = activity.kind
    if kind == "created":
        return Entry(
            activity.at, who, f"created this {etype.label.lower()}", _changes(etype, c, created=True)
        )
    if kind == "updated":
        return Entry(activity.at, who, "changed", _changes(etype, c, created=False))
    if kind == "deleted":
        return Entry(activity.at, who, "moved it to the trash")
    if kind == "restored":
        return Entry(activity.at, who, "restored it from the trash")
    if kind == "related":
        return Entry(
            activity.at,
            who,
            f"added “{c.get('title') or c.get('to')}” as {_role_label(etype, c.get('role', ''))}",
        )
    if kind == "unrelated":
        return Entry(activity.at, who, f"removed a {_role_label(etype, c.get('role', ''))}")
    if kind == "stage":
        text = f"moved it to {c.get('stage') or 'another stage'}"
        if c.get("override"):
            text += " (admin override)"
        return Entry(activity.at, who, text, note=c.get("reason") or "")
    if kind == "merged":
        filled = ", ".join(c.get("filled") or [])
        note = f"Filled from it: {filled}." if filled else ""
        return Entry(
            activity.at,
            who,
            f"merged the duplicate “{c.get('title') or c.get('duplicate')}” into this",
            note=note,
        )
    return Entry(activity.at, who, kind.replace("_", " "))


def timeline_entries(
    etype: EntityType, activities: Iterable[Activity], emails: dict[str, str]
) -> list[Entry]:
    out = []
    for activity in activities:
        who = emails.get(str(activity.user_id), "a former member") if activity.user_id else "Twofold"
        out.append(entry(etype, activity, who))
    return out


def referenced(entries: Iterable[Entry]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Values the timeline mentions: field rows for :func:`record_forms.lookups_for`, owner ids."""
    rows: list[dict[str, Any]] = []
    owners: list[Any] = []
    for e in entries:
        for ch in e.changes:
            if ch.field is OWNER:
                owners.extend((ch.old, ch.new))
            elif ch.field is not None and ch.field.type in ("reference", "user"):
                rows.extend(({ch.field.name: ch.old}, {ch.field.name: ch.new}))
    return rows, owners
