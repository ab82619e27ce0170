"""Running automation actions: now, in the current tenant, or later, in an RQ job.

An action is whatever a plugin registered through ``twofold_automation_actions`` for a pack
the tenant has enabled; the tenant's registry is the only place it is looked up, so a
disabled pack's actions do not run. The rule engine (triggers, conditions, ordered actions)
builds on these two functions.

Every run carries an idempotency key. :func:`enqueue_action` mints it when the run is
queued and the job carries it, so RQ retrying a job hands the action the same key again:
an action with outside effects (a message, a webhook) remembers the keys it has acted on
and does not act twice.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from twofold import jobs
from twofold.automations.meta import ActionContext, ActionSpec
from twofold.exceptions import NotFound
from twofold.packs import registry
from twofold.plugins import PluginFailed

log = logging.getLogger(__name__)


class UnknownAction(NotFound):
    """No enabled pack of the tenant offers an action by that name."""


def action(name: str) -> ActionSpec:
    tenant_registry = registry.current()
    spec = tenant_registry.actions.get(name)
    if spec is None:
        tenant_registry.raise_failure()  # it may be a broken pack's: say so, naming it
        raise UnknownAction(f"no action {name!r} among this company's enabled packs")
    return spec


def run_action(
    name: str,
    entity_type: str,
    record_id: uuid.UUID | str,
    params: dict[str, Any] | None = None,
    *,
    idempotency_key: str | None = None,
) -> str | None:
    """Run an action now, in the current tenant and as the current actor.

    The caller owns the transaction: the action's writes are committed or rolled back with
    the rest of the work. An action that raises fails as :class:`PluginFailed`, naming the
    plugin, and is logged.
    """
    spec = action(name)
    ctx = ActionContext(
        record_id=uuid.UUID(str(record_id)),
        entity_type=entity_type,
        params=dict(params or {}),
        idempotency_key=idempotency_key or uuid.uuid4().hex,
    )
    plugin = spec.pack or "?"
    try:
        result = spec.run(ctx)
    except Exception as exc:
        log.exception("plugin '%s' failed in action %s (key %s)", plugin, name, ctx.idempotency_key)
        raise PluginFailed(plugin, f"action {name}", exc) from exc
    log.info("action %s on %s %s: %s", name, entity_type, ctx.record_id, result)
    return result


def perform(name: str, entity_type: str, record_id: str, params: dict[str, Any], idempotency_key: str) -> Any:
    """The job's entry point: :func:`twofold.jobs.run_job` has put the tenant and actor in scope."""
    return run_action(name, entity_type, record_id, params, idempotency_key=idempotency_key)


def enqueue_action(
    name: str,
    entity_type: str,
    record_id: uuid.UUID | str,
    params: dict[str, Any] | None = None,
    *,
    idempotency_key: str | None = None,
    retries: int = 3,
) -> str:
    """Queue an action to run in an RQ job, in this tenant, once this transaction commits.

    Returns the idempotency key the run carries (minted here unless given: a rule passes
    one derived from the event it reacts to, so the same event never acts twice).
    """
    action(name)  # an unknown action fails now, where the caller can see it
    key = idempotency_key or uuid.uuid4().hex
    jobs.enqueue(perform, name, entity_type, str(record_id), dict(params or {}), key, retries=retries)
    return key
