"""The connector registry: integrations plugins offer, and each tenant's settings for them.

The API (``/api/v1/connectors``) and the settings pages call these functions alike: the
settings form is described by :func:`form_fields` from the plugin's marshmallow schema,
saved by :func:`save`, checked by :func:`test_connection`; :func:`run_sync` queues one of
the plugin's sync jobs as a tenant job.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields
from marshmallow import ValidationError as MarshmallowError

from twofold import jobs
from twofold.auth.permissions import require
from twofold.channels.meta import IntegrationSpec
from twofold.db import db, utcnow
from twofold.exceptions import NotFound
from twofold.integrations import secrets_box
from twofold.integrations.models import ConnectorSettings
from twofold.packs.service import enabled_packs
from twofold.validation import ValidationError

MASK = "••••"


def available() -> dict[str, IntegrationSpec]:
    """Integrations of the core and of the packs this tenant has enabled."""
    registry = current_app.extensions["twofold.plugins"]
    found, _failures = registry.collect_safely("twofold_integrations", enabled_packs())
    return {c.value.name: c.value for c in found}


def spec(name: str) -> IntegrationSpec:
    found = available().get(name)
    if found is None:
        raise NotFound("integration")
    return found


def _row(name: str) -> ConnectorSettings | None:
    return db.session.scalar(db.select(ConnectorSettings).where(ConnectorSettings.connector == name))


def settings_of(name: str) -> dict[str, Any]:
    """The full settings, secrets decrypted: for jobs and tests of the connection only."""
    row = _row(name)
    if row is None:
        return {}
    return {**row.settings, **secrets_box.unseal(row.secrets)}


def save(name: str, data: Any) -> ConnectorSettings:
    """Validate and store; a secret left out (or sent as the mask) keeps its stored value."""
    require("integrations.manage")
    integration = spec(name)
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["Send a JSON object."]})
    row = _row(name)
    kept = secrets_box.unseal(row.secrets) if row else {}
    merged = dict(data)
    for key in integration.secret_fields:
        if merged.get(key) in (None, MASK) and key in kept:
            merged[key] = kept[key]
    schema: Schema = integration.settings_schema() if integration.settings_schema else None
    try:
        clean = schema.load(merged) if schema else merged
    except MarshmallowError as exc:
        raise ValidationError(exc.messages) from None
    secret = {k: v for k, v in clean.items() if k in integration.secret_fields}
    plain = {k: v for k, v in clean.items() if k not in integration.secret_fields}
    if row is None:
        row = ConnectorSettings(connector=name)
        db.session.add(row)
    row.settings, row.secrets, row.updated_at = plain, secrets_box.seal(secret), utcnow()
    return row


def to_json(name: str) -> dict[str, Any]:
    require("integrations.manage")
    integration = spec(name)
    row = _row(name)
    stored = secrets_box.unseal(row.secrets) if row else {}
    return {
        "name": integration.name,
        "label": integration.label,
        "configured": row is not None,
        "settings": dict(row.settings) if row else {},
        "secrets": {k: {"set": k in stored, "value": MASK if k in stored else None}
                    for k in integration.secret_fields},
        "can_test": integration.test_connection is not None,
        "sync_jobs": [job_name(job) for job in integration.sync_jobs],
    }


def test_connection(name: str) -> dict[str, Any]:
    require("integrations.manage")
    integration = spec(name)
    if integration.test_connection is None:
        raise ValidationError({"_schema": ["This integration has no connection test."]})
    try:
        return {"ok": True, "message": str(integration.test_connection(settings_of(name)))}
    except Exception as exc:  # the plugin's answer, shown to the admin; never a 500
        return {"ok": False, "message": f"{type(exc).__name__}: {exc}"[:500]}


# --- the settings form and the sync jobs ------------------------------------------------

_INPUTS: tuple[tuple[type, str], ...] = (
    (fields.Url, "url"), (fields.Email, "email"), (fields.Boolean, "checkbox"),
    (fields.Integer, "number"), (fields.Float, "number"), (fields.Decimal, "number"),
)


def _input_type(field: fields.Field) -> str:
    return next((kind for cls, kind in _INPUTS if isinstance(field, cls)), "text")


def form_fields(name: str) -> list[dict[str, Any]]:
    """The settings form, generated from the plugin's schema: one entry per field with
    ``name``, ``label``, ``input`` (an HTML input type), ``required``, ``secret``, ``hint``
    and, for a secret, ``set`` (a value is stored; it is never sent back)."""
    require("integrations.manage")
    integration = spec(name)
    row = _row(name)
    stored = secrets_box.unseal(row.secrets) if row else {}
    if integration.settings_schema is not None:
        declared = integration.settings_schema().fields
        items = [(key, f) for key, f in declared.items() if not f.dump_only]
    else:  # no schema: the plain names of ``settings`` (name -> description)
        items = [(key, None) for key in integration.settings]
    out = []
    for key, field in items:
        meta = field.metadata if field is not None else {}
        secret = key in integration.secret_fields
        out.append({
            "name": key,
            "label": meta.get("label") or key.replace("_", " ").capitalize(),
            "input": "password" if secret else (_input_type(field) if field is not None else "text"),
            "required": bool(field is not None and field.required),
            "secret": secret,
            "set": key in stored,
            "hint": meta.get("description") or integration.settings.get(key, ""),
        })
    return out


def job_name(job: Any) -> str:
    return getattr(job, "__name__", str(job))


def _sync_job(integration: IntegrationSpec, name: str) -> Any:
    found = next((job for job in integration.sync_jobs if job_name(job) == name), None)
    if found is None:
        raise NotFound("sync job")
    return found


def run_sync(name: str, job: str) -> None:
    """Queue one sync job of the integration (it leaves after the caller commits)."""
    require("integrations.manage")
    _sync_job(spec(name), job)
    jobs.enqueue(run_sync_job, name, job, result_ttl=86400)


def run_sync_job(name: str, job: str) -> str:
    """The tenant job: ``job(settings)`` with the decrypted settings; its answer, as text."""
    result = _sync_job(spec(name), job)(settings_of(name))
    return str(result)[:500] if result is not None else "done"
