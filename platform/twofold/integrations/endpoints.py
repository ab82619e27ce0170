"""Inbound endpoints of a tenant (web forms and signed JSON hooks): create, list, change, remove.

The API (``/api/v1/inbound``) and the settings pages call these functions alike. A form is
embedded with one ``<script>`` tag (:func:`snippet`) that loads ``GET /f/<slug>/<key>.js``
(:mod:`twofold.integrations.inbound_views`); :func:`form_fields` says what that form asks.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from markupsafe import escape
from marshmallow import EXCLUDE, Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError

from twofold.auth.permissions import require
from twofold.db import db
from twofold.exceptions import NotFound
from twofold.integrations import signing
from twofold.integrations.models import InboundEndpoint
from twofold.packs import registry
from twofold.validation import ValidationError

UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")


class EndpointSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf(["form", "hook"]))
    entity_type = fields.String(required=True)
    field_map = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    id_field = fields.String(load_default=None, allow_none=True)


def create(data: Any) -> InboundEndpoint:
    require("integrations.manage")
    try:
        clean = EndpointSchema().load(data)
    except MarshmallowError as exc:
        raise ValidationError(exc.messages) from None
    try:
        etype = registry.entity_type(clean["entity_type"])
    except Exception:
        raise ValidationError({"entity_type": ["No such entity type."]}) from None
    names = {f.name for f in etype.fields}
    bad = sorted(v for v in clean["field_map"].values() if v not in names)
    if bad:
        raise ValidationError({"field_map": [f"Not a field of {etype.name}: {', '.join(bad)}."]})
    endpoint = InboundEndpoint(key=secrets.token_urlsafe(12), **clean)
    if endpoint.kind == "hook":
        endpoint.secret = secrets.token_urlsafe(32)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def get(endpoint_id: uuid.UUID) -> InboundEndpoint:
    require("integrations.manage")
    found = db.session.scalar(db.select(InboundEndpoint).where(InboundEndpoint.id == endpoint_id))
    if found is None:
        raise NotFound("inbound endpoint")
    return found


class UpdateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    enabled = fields.Boolean(required=True)


def update(endpoint_id: uuid.UUID, data: Any) -> InboundEndpoint:
    endpoint = get(endpoint_id)
    try:
        clean = UpdateSchema().load(data)
    except MarshmallowError as exc:
        raise ValidationError(exc.messages) from None
    endpoint.enabled = clean["enabled"]
    return endpoint


def set_enabled(endpoint_id: uuid.UUID, enabled: bool) -> InboundEndpoint:
    return update(endpoint_id, {"enabled": enabled})


def delete(endpoint_id: uuid.UUID) -> None:
    db.session.delete(get(endpoint_id))


def all_endpoints() -> list[InboundEndpoint]:
    require("integrations.manage")
    return list(db.session.scalars(db.select(InboundEndpoint).order_by(InboundEndpoint.created_at)))


def form_url(endpoint: InboundEndpoint, tenant_slug: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/f/{tenant_slug}/{endpoint.key}"


def hook_url(endpoint: InboundEndpoint, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/hooks/inbound/{endpoint.id}"


def snippet(endpoint: InboundEndpoint, tenant_slug: str, base_url: str) -> str:
    """The one tag a tenant pastes where the form goes: the script draws the form there.

    A ``<form data-twofold-form="<key>">`` already on the page is enhanced instead (its own
    inputs and layout kept); see :func:`form_html` for such a form.
    """
    src = form_url(endpoint, tenant_slug, base_url) + ".js"
    return f'<script src="{src}" defer></script>\n'


def form_html(endpoint: InboundEndpoint, tenant_slug: str, base_url: str) -> str:
    """A plain HTML form for the same endpoint: it works without JavaScript, and the script
    of :func:`snippet` placed after it adds UTM values, the referrer and inline errors."""
    action = form_url(endpoint, tenant_slug, base_url)
    inputs = "".join(
        f'  <label>{escape(f["label"])} <input name="{escape(f["name"])}" type="{f["input"]}"'
        f'{" required" if f["required"] else ""}></label>\n'
        for f in form_fields(endpoint)
    )
    return (
        f'<form method="post" action="{action}" data-twofold-form="{endpoint.key}">\n{inputs}'
        '  <button type="submit">Send</button>\n</form>\n'
    )


INPUT_TYPES = {"email": "email", "phone": "tel", "number": "number", "money": "number", "url": "url",
               "date": "date"}
SIMPLE_TYPES = ("text", "email", "phone", "number", "money", "url", "date")


def form_fields(endpoint: InboundEndpoint) -> list[dict[str, Any]]:
    """The visible inputs of the form: ``name`` (what is posted), ``field`` (the record field
    it fills), ``label``, ``input`` (the HTML input type) and ``required``.

    Runs in the endpoint's tenant scope. UTM names and the referrer are not inputs: the
    script fills them in from the page (see :func:`accepted_extras`).
    """
    try:
        etype = registry.entity_type(endpoint.entity_type)
    except Exception:
        return []
    by_name = {f.name: f for f in etype.fields}
    if endpoint.field_map:
        pairs = [(name, target) for name, target in endpoint.field_map.items() if name not in UTM_PARAMS]
    else:
        pairs = [(f.name, f.name) for f in etype.fields
                 if f.type in SIMPLE_TYPES and f.name not in UTM_PARAMS]
    out = []
    for name, target in pairs:
        spec = by_name.get(target)
        out.append({
            "name": name, "field": target,
            "label": spec.display_label if spec else name.replace("_", " ").capitalize(),
            "input": INPUT_TYPES.get(spec.type, "text") if spec else "text",
            "required": bool(spec and spec.required),
        })
    return out


def accepted_extras(endpoint: InboundEndpoint) -> list[str]:
    """The UTM names (and ``referrer``) this endpoint stores: mapped, or fields of the type."""
    if endpoint.field_map:
        return [n for n in UTM_PARAMS if n in endpoint.field_map]
    try:
        names = {f.name for f in registry.entity_type(endpoint.entity_type).fields}
    except Exception:
        return []
    return [n for n in UTM_PARAMS if n in names]


def describe(endpoint: InboundEndpoint, tenant_slug: str, base_url: str, *,
             with_secret: bool = False) -> dict[str, Any]:
    """What the API answers and the settings page shows: the endpoint, and how to use it."""
    body = to_json(endpoint, with_secret=with_secret)
    if endpoint.kind == "form":
        body["url"] = form_url(endpoint, tenant_slug, base_url)
        body["snippet"] = snippet(endpoint, tenant_slug, base_url)
        body["form_html"] = form_html(endpoint, tenant_slug, base_url)
    else:
        body["url"] = hook_url(endpoint, base_url)
        body["signature_header"] = signing.HEADER
    return body


def to_json(endpoint: InboundEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    body = {
        "id": str(endpoint.id), "kind": endpoint.kind, "key": endpoint.key,
        "entity_type": endpoint.entity_type, "field_map": endpoint.field_map,
        "id_field": endpoint.id_field, "enabled": endpoint.enabled,
        "secret_set": bool(endpoint.secret),
    }
    if with_secret and endpoint.secret:
        body["secret"] = endpoint.secret
    return body
