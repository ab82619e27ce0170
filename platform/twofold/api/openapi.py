"""``GET /api/v1/openapi.json``: the calling tenant's API description."""

from __future__ import annotations

from typing import Any

from flask import request

from twofold.api import bp
from twofold.api.openapi_doc import build


@bp.get("/openapi.json")
def openapi_document() -> Any:
    return build(request.url_root.rstrip("/") + "/api/v1")
