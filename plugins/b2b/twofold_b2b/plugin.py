"""The B2B pack's hook implementations: the declarations live in their own modules.

Companies, contacts with their buying-committee roles, deals, documents and negotiated
terms (``entities``); the gated deals funnel (``funnel``); the chatbot's new-inquiry flow
(``flows``); the rule that hands the bot's inquiries to a manager (``rules``). Navigation
needs nothing here: the core links every entity type's list.
"""

from __future__ import annotations

from twofold.sdk import BotFlowSpec, EntityType, PackInfo, PipelineSpec, RuleTemplate, hookimpl
from twofold_b2b.entities import ENTITY_TYPES
from twofold_b2b.flows import BOT_FLOWS
from twofold_b2b.funnel import PIPELINES
from twofold_b2b.rules import RULE_TEMPLATES


@hookimpl
def twofold_pack() -> PackInfo:
    return PackInfo(
        "b2b", "B2B: control of long deals",
        "Buying committees, documents, negotiated terms and gated stages.",
    )


@hookimpl
def twofold_entity_types() -> list[EntityType]:
    return list(ENTITY_TYPES)


@hookimpl
def twofold_pipelines() -> list[PipelineSpec]:
    return list(PIPELINES)


@hookimpl
def twofold_bot_flows() -> list[BotFlowSpec]:
    return list(BOT_FLOWS)


@hookimpl
def twofold_rule_templates() -> list[RuleTemplate]:
    return list(RULE_TEMPLATES)
