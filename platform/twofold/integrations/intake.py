"""Creating a record from an inbound request, at most once per idempotency key."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from twofold.auth.permissions import Actor, acting_as
from twofold.db import db
from twofold.entities import service as records
from twofold.integrations.endpoints import UTM_PARAMS, accepted_extras
from twofold.integrations.models import IdempotencyKey, InboundEndpoint


def previous(endpoint: InboundEndpoint, key: str | None) -> dict[str, Any] | None:
    if not key:
        return None
    row = db.session.scalar(
        db.select(IdempotencyKey).where(
            IdempotencyKey.endpoint == str(endpoint.id), IdempotencyKey.key == key
        )
    )
    return row.result if row else None


def create_once(endpoint: InboundEndpoint, key: str | None, data: dict[str, Any]) -> tuple[dict, bool]:
    """``(result, created)``: the record made now, or the first answer to this key.

    The key row is written in the record's transaction; two racing copies of one request
    collide on the unique (tenant_id, endpoint, key) and the loser answers the winner's result.
    """
    first = previous(endpoint, key)
    if first is not None:
        return first, False
    with acting_as(Actor(user_id=None, role="owner", via="inbound")):
        record = records.create(endpoint.entity_type, data)
    result = {"id": str(record.id), "entity_type": endpoint.entity_type}
    if key:
        db.session.add(IdempotencyKey(endpoint=str(endpoint.id), key=key[:200], result=result))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        first = previous(endpoint, key)
        if first is None:
            raise
        return first, False
    return result, True


def mapped(endpoint: InboundEndpoint, incoming: dict[str, Any]) -> dict[str, Any]:
    """The record's values: through the endpoint's field map, or the object as it is."""
    if not endpoint.field_map:
        # UTM values and the referrer arrive with every embedded form: keep them only where
        # the type has such a field, so they do not make the record's schema refuse the lead.
        dropped = set(UTM_PARAMS) - set(accepted_extras(endpoint))
        return {k: v for k, v in incoming.items() if k != endpoint.id_field and k not in dropped}
    return {
        field: incoming[name]
        for name, field in endpoint.field_map.items()
        if name in incoming and incoming[name] not in (None, "")
    }
