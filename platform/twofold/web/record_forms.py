"""Forms generated from entity metadata: which input each field type gets, how posted
strings become the values the service validates, and what a page needs to show values.

Validation itself is the service's (the same marshmallow schema as the API); this module
only translates between HTML form fields and the service's input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from twofold.entities import lookup
from twofold.entities import query as records_query
from twofold.entities.meta import EntityType, Field
from twofold.entities.models import Record

# How many records a reference field offers in a select; past that, an id input.
REFERENCE_CHOICES = 200

INPUT_TYPES = {
    "text": "text",
    "number": "number",
    "money": "number",
    "date": "date",
    "datetime": "datetime-local",
    "email": "email",
    "phone": "tel",
    "url": "url",
}
TRUE = {"true", "on", "1", "yes"}
OWNER = Field(name="owner_id", type="user", label="Owner")


@dataclass(frozen=True)
class Widget:
    """One form control: the field, the HTML control and its current value."""

    field: Field
    control: str  # input, select, multi, checkbox
    input_type: str = "text"
    value: Any = ""
    options: tuple[tuple[str, str], ...] = ()
    step: str | None = None

    @property
    def name(self) -> str:
        return self.field.name


class Choices:
    """Options for reference and user fields, fetched once per page."""

    def __init__(self) -> None:
        self._records: dict[str, tuple[tuple[str, str], ...] | None] = {}
        self._members: tuple[tuple[str, str], ...] | None = None

    def records(self, type_name: str) -> tuple[tuple[str, str], ...] | None:
        """``(id, title)`` of the type's records, or None when there are too many for a select."""
        if type_name not in self._records:
            page = records_query.list_records(type_name, sort="title", limit=REFERENCE_CHOICES)
            options = tuple((str(r.id), r.title or str(r.id)) for r in page.records)
            self._records[type_name] = None if page.next_cursor else options
        return self._records[type_name]

    def members(self) -> tuple[tuple[str, str], ...]:
        if self._members is None:
            self._members = tuple(lookup.member_choices())
        return self._members


def _datetime_local(value: Any) -> str:
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)  # as typed, when re-showing a form with an error
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M")


def widget(f: Field, value: Any, choices: Choices) -> Widget:
    kind = f.type
    if kind == "bool":
        return Widget(f, "checkbox", value=value in (True, "true", "on", "1"))
    if kind == "choice":
        return Widget(f, "select", value=value or "", options=tuple((c, c) for c in f.choices))
    if kind == "multi_choice":
        selected = value if isinstance(value, list) else []
        return Widget(f, "multi", value=selected, options=tuple((c, c) for c in f.choices))
    if kind == "user":
        return Widget(f, "select", value=str(value or ""), options=choices.members())
    if kind == "reference" and f.reference:
        options = choices.records(f.reference)
        if options is not None:
            return Widget(f, "select", value=str(value or ""), options=options)
        return Widget(f, "input", input_type="text", value=str(value or ""))
    if kind == "datetime":
        return Widget(f, "input", input_type="datetime-local", value=_datetime_local(value))
    step = "0.01" if kind == "money" else "any" if kind == "number" else None
    return Widget(
        f, "input", input_type=INPUT_TYPES.get(kind, "text"), value="" if value is None else value, step=step
    )


def widgets(
    etype: EntityType, values: dict[str, Any], *, with_owner: bool = True, choices: Choices | None = None
) -> list[Widget]:
    choices = choices or Choices()
    out = [widget(f, values.get(f.name), choices) for f in etype.fields]
    if with_owner:
        out.append(widget(OWNER, values.get("owner_id"), choices))
    return out


def values_from_form(etype: EntityType, form: MultiDict) -> dict[str, Any]:
    """The posted form as widget values, to show it again with its errors."""
    out: dict[str, Any] = {}
    for f in (*etype.fields, OWNER):
        if f.type == "multi_choice":
            out[f.name] = [v for v in form.getlist(f.name) if v]
        elif f.type == "bool":
            out[f.name] = (form.getlist(f.name) or [""])[-1] in TRUE
        else:
            out[f.name] = form.get(f.name, "")
    return out


def service_input(
    etype: EntityType, form: MultiDict, *, creating: bool, names: Iterable[str] | None = None
) -> dict[str, Any]:
    """Posted strings as the service's input.

    A blank optional field is sent as null (it clears the value); a blank required field
    is left out on create, so the schema answers "Missing data for required field.". A
    checkbox posts a hidden ``false`` before its ``true``; the last value wins. Fields
    absent from the form are left out (an inline edit posts one field).
    """
    wanted = set(names) if names is not None else None
    data: dict[str, Any] = {}
    for f in (*etype.fields, OWNER):
        if wanted is not None and f.name not in wanted:
            continue
        if f.name not in form:
            continue
        if f.type == "multi_choice":
            data[f.name] = [v for v in form.getlist(f.name) if v]
            continue
        if f.type == "bool":
            data[f.name] = (form.getlist(f.name) or [""])[-1] in TRUE
            continue
        raw = form.get(f.name, "")
        raw = raw.strip() if f.type != "text" else raw
        if raw == "" or (f.type == "text" and not raw.strip()):
            if f.required and creating:
                continue
            data[f.name] = None
            continue
        data[f.name] = raw
    return data


def friendly(errors: dict[str, Any]) -> dict[str, Any]:
    """Say "required" the same way whether a field was left out or emptied."""
    out: dict[str, Any] = {}
    for name, messages in errors.items():
        if isinstance(messages, list):
            messages = [
                "Missing data for required field." if m == "Field may not be null." else m for m in messages
            ]
        out[name] = messages
    return out


@dataclass(frozen=True)
class Lookups:
    """What a page needs to show reference and user values: titles and emails by id."""

    refs: dict[str, lookup.RecordRef]
    users: dict[str, str]


def lookups_for(
    etype: EntityType,
    rows: Iterable[dict[str, Any]],
    records: Iterable[Record] = (),
    extra_users: Iterable[object] = (),
) -> Lookups:
    ref_ids: list[object] = []
    user_ids: list[object] = list(extra_users)
    for values in rows:
        for f in etype.fields:
            value = values.get(f.name)
            if f.type == "reference":
                ref_ids.append(value)
            elif f.type == "user":
                user_ids.append(value)
    user_ids.extend(r.owner_id for r in records)
    return Lookups(lookup.record_refs(ref_ids), lookup.user_emails(user_ids))
