"""Entity types as data: what a plugin declares and a tenant admin extends at run time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FieldType = Literal[
    "text",
    "number",
    "money",
    "date",
    "datetime",
    "bool",
    "choice",
    "multi_choice",
    "email",
    "phone",
    "url",
    "reference",
    "user",
]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]

# Typed columns of the records table that a field may live in, so that engines can
# aggregate and sort on them in SQL (the rest lives in the JSON column).
TYPED_COLUMNS = {"title": "text", "amount": "money", "currency": "text", "status": "choice"}


@dataclass(frozen=True)
class Field:
    """One field of an entity type.

    ``column`` puts the value in a typed column of the records table (``amount``,
    ``currency``, ``status``) instead of the JSON document; ``reference`` names the entity
    type a ``reference`` field points at.
    """

    name: str
    type: FieldType = "text"
    label: str = ""
    required: bool = False
    unique: bool = False
    indexed: bool = False
    personal: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    reference: str | None = None
    column: str | None = None
    help: str = ""
    custom: bool = False  # added by a tenant admin, not by a plugin

    @property
    def display_label(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class RelationRole:
    """A role one record plays for another: a contact is a deal's ``signer``.

    Declared on the entity type the relation starts from; ``to_type`` is the type of the
    related record.
    """

    name: str
    to_type: str
    label: str = ""

    @property
    def display_label(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class EntityType:
    """A kind of record: ``contact``, ``deal``, ``order``…

    ``title`` forms a record's title from its fields, as a format string
    (``"{first_name} {last_name}"``) or a single field name.
    """

    name: str
    label: str
    fields: tuple[Field, ...]
    title: str = "name"
    label_plural: str = ""
    relations: tuple[RelationRole, ...] = ()
    pack: str = ""  # filled in by the core: the plugin that registered the type

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def plural(self) -> str:
        return self.label_plural or f"{self.label}s"

    def title_for(self, values: dict[str, Any]) -> str:
        if "{" not in self.title:
            return str(values.get(self.title) or "").strip()
        parts = {f.name: values.get(f.name) or "" for f in self.fields}
        return " ".join(self.title.format(**parts).split())
