"""The B2C pack's hook implementations: each hands over what a module of the pack declares.

- ``entities``: contact (with consent per channel), lead, order, campaign;
- ``funnel``: the leads pipeline and the first-response SLA (an action and its rule);
- ``flows``: the chatbot's "new lead" flow.

No navigation items: the core already lists every enabled entity type (Leads, Contacts,
Orders, Campaigns) in the navigation, and a ``NavItem`` names an endpoint without
arguments, so it could not point at one type's records page anyway.
"""

from __future__ import annotations

from twofold.sdk import ActionSpec, BotFlowSpec, EntityType, PackInfo, PipelineSpec, RuleTemplate, hookimpl
from twofold_b2c import entities, flows, funnel

PACK = "b2c"


@hookimpl
def twofold_pack() -> PackInfo:
    return PackInfo(
        PACK, "B2C: speed and scale",
        "Capture every lead, answer at once, remind, repeat and convert.",
    )


@hookimpl
def twofold_entity_types() -> list[EntityType]:
    return entities.entity_types()


@hookimpl
def twofold_pipelines() -> list[PipelineSpec]:
    return funnel.pipelines()


@hookimpl
def twofold_automation_actions() -> list[ActionSpec]:
    return funnel.actions()


@hookimpl
def twofold_rule_templates() -> list[RuleTemplate]:
    return funnel.rule_templates()


@hookimpl
def twofold_bot_flows() -> list[BotFlowSpec]:
    return flows.bot_flows()
