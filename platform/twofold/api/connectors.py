"""Connector settings in the API: ``/api/v1/connectors`` (secrets are never returned)."""

from __future__ import annotations

from typing import Any

from twofold.api import bp
from twofold.api.helpers import json_body
from twofold.auth.permissions import require
from twofold.db import db
from twofold.integrations import connectors


@bp.get("/connectors")
def list_connectors() -> Any:
    require("integrations.manage")
    return {"data": [connectors.to_json(name) for name in sorted(connectors.available())]}


@bp.get("/connectors/<name>")
def get_connector(name: str) -> Any:
    return connectors.to_json(name)


@bp.put("/connectors/<name>")
def save_connector(name: str) -> Any:
    connectors.save(name, json_body())
    db.session.commit()
    return connectors.to_json(name)


@bp.post("/connectors/<name>/test")
def test_connector(name: str) -> Any:
    return connectors.test_connection(name)


@bp.post("/connectors/<name>/sync/<job>")
def run_connector_sync(name: str, job: str) -> Any:
    connectors.run_sync(name, job)
    db.session.commit()  # the job leaves after the commit
    return {"queued": job}, 202
