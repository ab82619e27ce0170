"""Webhook subscriptions and inbound endpoints in the API: ``/api/v1/webhooks``, ``/api/v1/inbound``."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, request

from twofold.api import bp
from twofold.api.helpers import json_body
from twofold.db import db
from twofold.integrations import endpoints, subscriptions


@bp.get("/webhooks")
def list_webhooks() -> Any:
    return {"data": [subscriptions.to_json(s) for s in subscriptions.all_subscriptions()]}


@bp.post("/webhooks")
def create_webhook() -> Any:
    sub = subscriptions.create(json_body())
    body = subscriptions.to_json(sub, with_secret=True)  # the only time the secret is shown
    db.session.commit()
    return body, 201


@bp.get("/webhooks/<uuid:sub_id>")
def get_webhook(sub_id: uuid.UUID) -> Any:
    return subscriptions.to_json(subscriptions.get(sub_id))


@bp.patch("/webhooks/<uuid:sub_id>")
def update_webhook(sub_id: uuid.UUID) -> Any:
    sub = subscriptions.update(sub_id, json_body())
    db.session.commit()
    return subscriptions.to_json(sub)


@bp.delete("/webhooks/<uuid:sub_id>")
def delete_webhook(sub_id: uuid.UUID) -> Any:
    subscriptions.delete(sub_id)
    db.session.commit()
    return "", 204


@bp.get("/webhooks/<uuid:sub_id>/deliveries")
def webhook_deliveries(sub_id: uuid.UUID) -> Any:
    return {"data": [subscriptions.delivery_json(d) for d in subscriptions.deliveries(sub_id)]}


@bp.post("/webhooks/<uuid:sub_id>/ping")
def ping_webhook(sub_id: uuid.UUID) -> Any:
    message_id = subscriptions.ping(sub_id)
    db.session.commit()  # the job leaves after the commit
    return {"message_id": message_id}, 202


@bp.get("/inbound")
def list_inbound() -> Any:
    return {"data": [endpoints.to_json(e) for e in endpoints.all_endpoints()]}


@bp.post("/inbound")
def create_inbound() -> Any:
    endpoint = endpoints.create(json_body())
    body = endpoints.describe(endpoint, g.tenant.slug, request.host_url, with_secret=True)
    db.session.commit()
    return body, 201


@bp.get("/inbound/<uuid:endpoint_id>")
def get_inbound(endpoint_id: uuid.UUID) -> Any:
    return endpoints.describe(endpoints.get(endpoint_id), g.tenant.slug, request.host_url)


@bp.patch("/inbound/<uuid:endpoint_id>")
def update_inbound(endpoint_id: uuid.UUID) -> Any:
    """Only ``enabled`` changes; a disabled endpoint answers 404 to senders."""
    endpoint = endpoints.update(endpoint_id, json_body())
    db.session.commit()
    return endpoints.describe(endpoint, g.tenant.slug, request.host_url)


@bp.delete("/inbound/<uuid:endpoint_id>")
def delete_inbound(endpoint_id: uuid.UUID) -> Any:
    endpoints.delete(endpoint_id)
    db.session.commit()
    return "", 204
