"""An OpenAPI document as rows for readable tables: operations, parameters, schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
SCHEMA_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class Param:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class Response:
    code: str
    description: str
    schema: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    params: list[Param]
    body: str
    responses: list[Response]

    @property
    def anchor(self) -> str:
        return f"op-{self.method}-{self.path.strip('/').replace('/', '-').replace('{', '').replace('}', '')}"


@dataclass(frozen=True)
class Property:
    name: str
    type: str
    required: bool
    description: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Schema:
    name: str
    properties: list[Property]


def _resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def type_label(doc: dict[str, Any], schema: Any) -> str:
    """``string (email)``, ``array of string``, or the name of a referenced schema."""
    if not isinstance(schema, dict):
        return str(schema or "")
    ref = schema.get("$ref")
    if ref:
        rest = ref[len(SCHEMA_PREFIX):] if ref.startswith(SCHEMA_PREFIX) else ref
        if "/" in rest:  # a property of another schema: show the property's own type
            return type_label(doc, _resolve(doc, ref))
        return rest
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {type_label(doc, schema.get('items', {}))}"
    return f"{kind} ({schema['format']})" if schema.get("format") else kind


def _body_schema(doc: dict[str, Any], content: dict[str, Any]) -> str:
    media = (content or {}).get("application/json", {})
    return type_label(doc, media.get("schema")) if media else ""


def operations(doc: dict[str, Any]) -> list[Operation]:
    out = []
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [
                Param(p.get("name", ""), p.get("in", ""), bool(p.get("required")),
                      type_label(doc, p.get("schema", {})), p.get("description", ""))
                for p in op.get("parameters", [])
            ]
            body = _body_schema(doc, op.get("requestBody", {}).get("content", {}))
            responses = [
                Response(code, r.get("description", ""), _body_schema(doc, r.get("content", {})))
                for code, r in sorted(op.get("responses", {}).items())
            ]
            out.append(Operation(method.upper(), path, op.get("summary", ""), (op.get("tags") or [""])[0],
                                 params, body, responses))
    return out


def schemas(doc: dict[str, Any]) -> list[Schema]:
    out = []
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        props = []
        for prop_name, prop in schema.get("properties", {}).items():
            resolved = _resolve(doc, prop["$ref"]) if "$ref" in prop else prop
            notes = []
            if resolved.get("enum"):
                notes.append("one of: " + ", ".join(str(v) for v in resolved["enum"] if v is not None))
            for key, label in (("readOnly", "read-only"), ("nullable", "may be null")):
                if resolved.get(key):
                    notes.append(label)
            if resolved.get("maxLength"):
                notes.append(f"at most {resolved['maxLength']} characters")
            props.append(Property(prop_name, type_label(doc, prop), prop_name in required,
                                  resolved.get("description", ""), notes))
        out.append(Schema(name, props))
    return out
