"""The per-tenant security log: sign-ins, failures, tokens, roles, invitations."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import has_request_context, request

from twofold.auth.models import SecurityEvent
from twofold.auth.permissions import require
from twofold.db import db
from twofold.tenancy.scope import maybe_current_tenant_id

log = logging.getLogger("twofold.security")


def record(
    kind: str,
    *,
    user_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
    **detail: Any,
) -> SecurityEvent:
    """Add an event to the session; it is written with the change it reports."""
    ip = request.remote_addr if has_request_context() else None
    event = SecurityEvent(kind=kind, user_id=user_id, ip=ip, detail=detail)
    if tenant_id is not None:
        event.tenant_id = tenant_id
    db.session.add(event)
    tenant = tenant_id or maybe_current_tenant_id()
    log.info("%s tenant=%s user=%s ip=%s %s", kind, tenant or "-", user_id, ip, detail or "")
    return event


def recent(limit: int = 200) -> list[SecurityEvent]:
    require("security_log.view")
    return list(db.session.scalars(db.select(SecurityEvent).order_by(SecurityEvent.at.desc()).limit(limit)))
