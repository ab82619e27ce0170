"""A test pack for the rule engine: a plugin action, a failing one and a rule template."""

from __future__ import annotations

from twofold import sdk
from twofold.sdk import hookimpl

NAME = "autotest"
CALLS: list[str] = []


@hookimpl
def twofold_pack() -> sdk.PackInfo:
    return sdk.PackInfo(NAME, "Automation test", "Actions and a rule template for the engine's tests.")


def tag(ctx: sdk.ActionContext) -> str:
    CALLS.append(ctx.idempotency_key)
    return f"tagged {ctx.params.get('label', '')}"


def boom(ctx: sdk.ActionContext) -> str:
    raise RuntimeError("the plugin broke")


@hookimpl
def twofold_automation_actions() -> list[sdk.ActionSpec]:
    return [sdk.ActionSpec("autotest.tag", "Tag", tag), sdk.ActionSpec("autotest.boom", "Boom", boom)]


@hookimpl
def twofold_rule_templates() -> list[sdk.RuleTemplate]:
    return [
        sdk.RuleTemplate(
            key="autotest.vip_adults",
            name="Adults are VIPs",
            trigger="record.created",
            entity_type="person",
            conditions=({"field": "age", "op": "gt", "value": 17},),
            actions=({"type": "set_field", "params": {"field": "vip", "value": True}},),
        ),
    ]
