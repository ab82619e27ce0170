"""The plugin contract: every hook a pack or third-party plugin may implement.

Hooks are called with keyword arguments only, so a hook can gain arguments later without
breaking the plugins that implement it (an implementation names just the arguments it
uses). Registration hooks take no arguments and return lists of metadata objects from
:mod:`twofold.sdk`; they are called once per process, one plugin at a time, and what a
tenant sees is filtered to its enabled packs (see :mod:`twofold.plugins`). Except for
``twofold_pack``, ``twofold_blueprints`` and ``twofold_tenant_created``, a pack's hooks act
only for tenants that have enabled that pack. A hook that raises, or returns another kind
of object than declared here, fails the requests and jobs that need its plugin, naming it.

Each hook is documented, with an example, in ``docs/plugin_hooks.md``; a test fails when
one is not.
"""

from __future__ import annotations

import uuid

import pluggy
from flask import Blueprint

from twofold.automations.meta import ActionSpec, RuleTemplate, TriggerSpec
from twofold.channels.meta import BotFlowSpec, ChannelSpec, IntegrationSpec
from twofold.entities.meta import EntityType
from twofold.metrics.meta import DashboardSpec, MetricSpec
from twofold.packs.meta import NavItem, PackInfo
from twofold.pipelines.meta import PipelineSpec

hookspec = pluggy.HookspecMarker("twofold")


@hookspec(firstresult=True)
def twofold_pack() -> PackInfo:
    """Describe the pack: its label and description on the packs page.

    A plugin without this hook is a library of hooks that is always on (the core's own
    features register this way); a plugin with it is a pack a tenant enables.
    """


@hookspec
def twofold_entity_types() -> list[EntityType]:
    """Entity types this pack brings (``contact``, ``deal``…), with their fields."""


@hookspec
def twofold_pipelines() -> list[PipelineSpec]:
    """Pipelines (funnels) with their stages, seeded into a tenant when it enables the pack.

    After seeding they belong to the tenant: its admins may rename stages or change
    requirements without the plugin overwriting them.
    """


@hookspec
def twofold_automation_triggers() -> list[TriggerSpec]:
    """Kinds of automation trigger this pack adds to the rule builder."""


@hookspec
def twofold_automation_actions() -> list[ActionSpec]:
    """Automation actions this pack adds (send a quote, sync to the ERP…).

    ``run(ctx)`` runs in the tenant's scope, usually in an RQ job
    (:func:`twofold.automations.actions.enqueue_action`). A retried job hands it the same
    ``ctx.idempotency_key``: an action must not act twice for one key.
    """


@hookspec
def twofold_rule_templates() -> list[RuleTemplate]:
    """Ready-made automation rules, switched on when a tenant enables the pack."""


@hookspec
def twofold_channels() -> list[ChannelSpec]:
    """Messaging channels (Telegram, WhatsApp, a website widget…)."""


@hookspec
def twofold_integrations() -> list[IntegrationSpec]:
    """Outside systems this pack connects to (ERP, accounting, ad cabinets…)."""


@hookspec
def twofold_metrics() -> list[MetricSpec]:
    """Metrics as SQL-level aggregations over records."""


@hookspec
def twofold_dashboards() -> list[DashboardSpec]:
    """Dashboards: named sets of metrics."""


@hookspec
def twofold_bot_flows() -> list[BotFlowSpec]:
    """Chatbot flows: the questions the bot asks and the fields the answers fill."""


@hookspec
def twofold_blueprints() -> list[Blueprint]:
    """Flask blueprints with the pack's own pages, registered once at start-up.

    Build them with ``twofold.sdk.pack_blueprint(pack, ...)``: its routes live under
    ``/t/<tenant>/`` and answer 404 to tenants that have not enabled the pack.
    """


@hookspec
def twofold_navigation() -> list[NavItem]:
    """Links this pack adds to the tenant's navigation."""


@hookspec
def twofold_pack_enabled(tenant_id: uuid.UUID) -> None:
    """A tenant enabled this pack: seed its defaults.

    Runs in the tenant's scope, in the same transaction as the enabling, after the core has
    seeded the pack's pipelines; raising undoes the enabling. It must be idempotent: a pack
    that is disabled and enabled again is called again, and must not create its defaults
    twice.
    """


@hookspec
def twofold_tenant_created(tenant_id: uuid.UUID) -> None:
    """A company has just signed up.

    Runs inside the signup transaction, in the new tenant's scope, acting as its owner:
    rows the hook adds are written with the tenant, and an exception undoes the whole
    signup.
    """
