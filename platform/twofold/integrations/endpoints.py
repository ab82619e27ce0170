"""Inbound endpoints of a tenant (web forms and signed JSON hooks): create, list, remove."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError

from twofold.auth.permissions import require
from twofold.db import db
from twofold.exceptions import NotFound
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


def delete(endpoint_id: uuid.UUID) -> None:
    db.session.delete(get(endpoint_id))


def all_endpoints() -> list[InboundEndpoint]:
    require("integrations.manage")
    return list(db.session.scalars(db.select(InboundEndpoint).order_by(InboundEndpoint.created_at)))


def snippet(endpoint: InboundEndpoint, tenant_slug: str, base_url: str) -> str:
    """An HTML form a tenant pastes on its site; UTM values are copied from the page's URL."""
    action = f"{base_url.rstrip('/')}/f/{tenant_slug}/{endpoint.key}"
    inputs = "".join(f'  <input name="{name}" placeholder="{name}">\n' for name in endpoint.field_map)
    hidden = "".join(f'  <input type="hidden" name="{name}">\n' for name in UTM_PARAMS)
    return (
        f'<form method="post" action="{action}" data-twofold-form>\n{inputs}{hidden}'
        '  <button type="submit">Send</button>\n</form>\n<script>\n'
        "(function(){var p=new URLSearchParams(location.search);"
        "document.querySelectorAll('form[data-twofold-form] input[type=hidden]').forEach(function(i){"
        "i.value=i.name==='referrer'?document.referrer:(p.get(i.name)||'');});})();\n</script>\n"
    )


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
