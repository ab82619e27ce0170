"""The OpenAPI 3 document of one tenant, generated from its entity metadata.

Custom fields are part of the tenant's entity types, so they appear here the moment an
admin adds them. The marshmallow schemas that validate writes are the ones described.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from twofold import __version__
from twofold.entities.meta import EntityType
from twofold.entities.query import OPERATORS
from twofold.entities.schemas import schema_for
from twofold.packs import registry

_ERROR = {"$ref": "#/components/schemas/Error"}
_VALIDATION = {"$ref": "#/components/schemas/ValidationErrors"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _record_schema(etype: EntityType) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid", "readOnly": True},
        "type": {"type": "string", "readOnly": True},
        "title": {"type": "string", "readOnly": True},
        "owner_id": {"type": "string", "format": "uuid", "nullable": True},
        "pipeline_id": {"type": "string", "format": "uuid", "nullable": True, "readOnly": True},
        "stage_id": {"type": "string", "format": "uuid", "nullable": True, "readOnly": True},
        "created_at": {"type": "string", "format": "date-time", "readOnly": True},
        "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    }
    for f in etype.fields:
        properties[f.name] = {"$ref": f"#/components/schemas/{_input_name(etype)}/properties/{f.name}"}
    return {"type": "object", "properties": properties}


def _input_name(etype: EntityType) -> str:
    return f"{etype.name.title().replace('_', '')}Input"


def _list_parameters(etype: EntityType) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Full-text search."},
        {
            "name": "sort",
            "in": "query",
            "schema": {"type": "string", "default": "-id"},
            "description": "A field or column; '-' first for descending.",
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        },
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string"},
            "description": "next_cursor of the previous page.",
        },
    ]
    for f in etype.fields:
        params.append(
            {
                "name": f.name,
                "in": "query",
                "schema": {"type": "string"},
                "required": False,
                "description": f"Filter on {f.display_label}; suffixes: "
                + ", ".join(f"__{o}" for o in OPERATORS),
            }
        )
    return params


def build(server_url: str) -> dict[str, Any]:
    spec = APISpec(
        title="Twofold CRM API",
        version=__version__,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        servers=[{"url": server_url}],
        info={"description": "Authenticate with 'Authorization: Bearer <API token>'."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema(
        "Error",
        {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
    )
    spec.components.schema(
        "ValidationErrors",
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                }
            },
        },
    )
    common = {"401": _json(_ERROR, "No or bad token"), "403": _json(_ERROR, "Not allowed for your role")}
    for etype in registry.current().entity_types.values():
        name = _input_name(etype)
        input_schema = schema_for(etype)
        spec.components.schema(name, schema=input_schema)
        record_name = f"{etype.name.title().replace('_', '')}"
        spec.components.schema(record_name, _record_schema(etype))
        ref = {"$ref": f"#/components/schemas/{record_name}"}
        base, item = f"/records/{etype.name}", f"/records/{etype.name}/{{id}}"
        id_param = [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        ]
        spec.path(
            path=base,
            operations={
                "get": {
                    "summary": f"List {etype.plural.lower()}",
                    "tags": [etype.label],
                    "parameters": _list_parameters(etype),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "data": {"type": "array", "items": ref},
                                    "next_cursor": {"type": "string", "nullable": True},
                                },
                            }
                        ),
                        "422": _json(_VALIDATION, "Bad filter"),
                        **common,
                    },
                },
                "post": {
                    "summary": f"Create a {etype.label.lower()}",
                    "tags": [etype.label],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": name}}},
                    "responses": {
                        "201": _json(ref, "Created"),
                        "422": _json(_VALIDATION, "Invalid values"),
                        **common,
                    },
                },
            },
        )
        spec.path(
            path=item,
            operations={
                "get": {
                    "summary": f"Get a {etype.label.lower()}",
                    "tags": [etype.label],
                    "parameters": id_param,
                    "responses": {"200": _json(ref), "404": _json(_ERROR, "Not found"), **common},
                },
                "patch": {
                    "summary": f"Change a {etype.label.lower()}",
                    "tags": [etype.label],
                    "parameters": id_param,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": name}}},
                    "responses": {
                        "200": _json(ref),
                        "404": _json(_ERROR, "Not found"),
                        "422": _json(_VALIDATION, "Invalid values"),
                        **common,
                    },
                },
                "delete": {
                    "summary": f"Move a {etype.label.lower()} to the trash",
                    "tags": [etype.label],
                    "parameters": id_param,
                    "responses": {
                        "204": {"description": "Deleted"},
                        "404": _json(_ERROR, "Not found"),
                        **common,
                    },
                },
            },
        )
        spec.path(
            path=f"{item}/move",
            operations={
                "post": {
                    "summary": f"Move a {etype.label.lower()} to a stage",
                    "tags": [etype.label],
                    "parameters": id_param,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "stage": {"type": "string"},
                                        "reason": {"type": "string"},
                                        "override": {"type": "boolean"},
                                    },
                                    "required": ["stage"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json({"type": "object"}),
                        "409": _json(_ERROR, "Stage requirements not met"),
                        "404": _json(_ERROR, "Not found"),
                        **common,
                    },
                }
            },
        )
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document
