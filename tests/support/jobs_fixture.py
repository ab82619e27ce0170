"""A job for the tests: it reports the tenant and actor it ran as, in that tenant's log."""

from __future__ import annotations

from twofold.auth import security_log
from twofold.auth.permissions import current_actor
from twofold.tenancy.scope import current_tenant_id


def record_context(label: str) -> str:
    actor = current_actor()
    security_log.record("test.job", user_id=actor.user_id, label=label, role=actor.role, via=actor.via)
    return current_tenant_id().hex


def fail_always(label: str) -> None:
    raise RuntimeError(f"job {label} failed on purpose")


def move_deal(deal_id: str, stage: str) -> None:
    """What an automation does to move a record: the public service, nothing else."""
    import uuid

    from twofold import sdk

    sdk.move_record("deal", uuid.UUID(deal_id), stage)
