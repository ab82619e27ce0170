"""Sending one webhook message: signed (Standard Webhooks), logged, retried, or given up on.

Each attempt is a job. A failed attempt writes its row in the delivery log and schedules
the next one itself (``enqueue_in``, run by RQ's scheduler) on an exponential schedule with
jitter; a message keeps its ``webhook-id`` on every attempt, so the receiver can drop a
repeat. A 410 disables the subscription at once; a message that fails through the whole
schedule disables it too, and the tenant's owners are told (security log and email).
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from standardwebhooks.webhooks import Webhook

from twofold import jobs
from twofold.auth import security_log
from twofold.auth.models import Membership, User
from twofold.db import db, utcnow
from twofold.integrations.models import WebhookDelivery, WebhookSubscription
from twofold.integrations.targets import target_problem
from twofold.mail import send_email
from twofold.tenancy.scope import current_tenant_id

QUEUE = "webhooks"
# Seconds before attempts 2, 3, …: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (as Svix does).
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2
TIMEOUT = 10
USER_AGENT = "Twofold-Webhooks/1"


def schedule() -> tuple[float, ...]:
    return tuple(current_app.config.get("WEBHOOK_RETRY_SCHEDULE", RETRY_SCHEDULE))


def queue_message(sub_id: uuid.UUID, message_id: str, kind: str, data: dict[str, Any]) -> None:
    """Queue the first attempt (after the current transaction commits)."""
    body = {"type": kind, "timestamp": utcnow().replace(tzinfo=UTC).isoformat(), "data": data}
    jobs.enqueue(deliver, sub_id.hex, message_id, body, 1, queue_name=QUEUE, retries=0)


def _sign(secret: str, message_id: str, payload: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, payload),
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (it could point inside the network): it counts as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(url: str, payload: str, headers: dict[str, str]) -> tuple[int | None, str | None]:
    request = urllib.request.Request(
        url, data=payload.encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except Exception as exc:  # refused, timed out, TLS: all are a failed attempt
        return None, f"{type(exc).__name__}: {exc}"[:500]


def deliver(sub_hex: str, message_id: str, body: dict[str, Any], attempt: int) -> str:
    """One attempt; runs in the tenant's scope (see :func:`twofold.jobs.run_job`)."""
    sub = db.session.get(WebhookSubscription, (current_tenant_id(), uuid.UUID(sub_hex)))
    if sub is None or not sub.enabled:
        return "subscription gone or disabled"
    payload = json.dumps(body, separators=(",", ":"), default=str)
    started = time.monotonic()
    problem = target_problem(sub.url)  # again at send time: DNS may have changed
    if problem:
        status, error = None, problem
    else:
        status, error = _post(sub.url, payload, _sign(sub.secret, message_id, payload))
    row = WebhookDelivery(
        subscription_id=sub.id, message_id=message_id, event_kind=body.get("type", ""),
        attempt=attempt, status_code=status, error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
        succeeded=status is not None and 200 <= status < 300,
    )
    db.session.add(row)
    if row.succeeded:
        sub.failure_count = 0
        return "delivered"
    sub.failure_count += 1
    if status == 410:
        _disable(sub, "The endpoint answered 410 Gone.")
        return "gone"
    delays = schedule()
    if attempt > len(delays):
        _disable(sub, f"Delivery failed {attempt} times over the retry schedule ({error}).")
        return "given up"
    delay = delays[attempt - 1] * random.uniform(1 - JITTER, 1 + JITTER)
    row.next_retry_at = utcnow() + timedelta(seconds=delay)
    jobs.enqueue(
        deliver, sub_hex, message_id, body, attempt + 1, queue_name=QUEUE, retries=0,
        delay_seconds=delay, job_id=f"webhook-{message_id}-{sub.id.hex}-{attempt + 1}",
    )
    return f"failed; attempt {attempt + 1} in {delay:.0f}s"


def _disable(sub: WebhookSubscription, reason: str) -> None:
    sub.enabled = False
    sub.disabled_reason = reason
    security_log.record("webhook.disabled", subscription_id=str(sub.id), url=sub.url, reason=reason)
    owners = db.session.scalars(
        db.select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == "owner")
    )
    for email in owners:
        send_email(
            email, "A webhook was disabled",
            f"Twofold stopped sending webhooks to {sub.url}.\nReason: {reason}\n"
            "Fix the endpoint, then enable the subscription again in the settings.",
        )
