"""The tenant's API, read as a page: its OpenAPI document in tables, and the JSON itself.

The document is built per tenant from its entity metadata (custom fields included), the
same as ``GET /api/v1/openapi.json``; here it is served to the signed-in session.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, render_template, request

from twofold.api import openapi_doc
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web import openapi_tables

bp = tenant_blueprint("api_docs", __name__, url_prefix="/api-docs")


def _document() -> dict[str, Any]:
    return openapi_doc.build(request.url_root.rstrip("/") + "/api/v1")


@bp.get("/")
def page() -> Any:
    doc = _document()
    ops = openapi_tables.operations(doc)
    tags: dict[str, list[openapi_tables.Operation]] = {}
    for op in ops:
        tags.setdefault(op.tag or "Other", []).append(op)
    return render_template(
        "api_docs/page.html",
        doc=doc,
        tags=tags,
        schemas=openapi_tables.schemas(doc),
        server=doc.get("servers", [{}])[0].get("url", ""),
    )


@bp.get("/openapi.json")
def document() -> Any:
    response = jsonify(_document())
    if request.args.get("download"):
        response.headers["Content-Disposition"] = (
            f'attachment; filename="twofold-{g.tenant.slug}-openapi.json"'
        )
    return response
