"""The lead funnel and its first-response clock.

New → Contacted → Qualified → Paid, or Lost with a reason written on the lead (a field, so
that "why we lose" can be counted, not only read in the stage history).

The first-response SLA is a rule the pack switches on: when a lead is created, an action
stamps ``first_response_due`` = creation time + N minutes. A rule rather than code in the
pack because the tenant owns it afterwards: an admin changes the minutes (or switches the
SLA off) in the rule builder, and the lead created by the bot, an import or the API all
pass through the same event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from twofold import sdk
from twofold.sdk import ActionContext, ActionSpec, PipelineSpec, RuleTemplate, StageSpec

PIPELINE = "leads"
SLA_ACTION = "b2c.set_first_response_due"
SLA_RULE = "b2c.first_response_sla"
SLA_MINUTES = 15
BOT_HANDOFF_RULE = "b2c.bot_lead_to_manager"


def pipelines() -> list[PipelineSpec]:
    return [
        PipelineSpec(
            key=PIPELINE, name="Leads", entity_type="lead",
            stages=(
                StageSpec("new", "New", probability=10),
                StageSpec("contacted", "Contacted", probability=30),
                StageSpec("qualified", "Qualified", probability=60),
                StageSpec("paid", "Paid", kind="won", probability=100),
                StageSpec("lost", "Lost", kind="lost", required_fields=("lost_reason",)),
            ),
        )
    ]


def _minutes(params: dict[str, Any]) -> int:
    try:
        minutes = int(params.get("minutes", SLA_MINUTES))
    except (TypeError, ValueError):
        raise ValueError(f"minutes must be a whole number, not {params.get('minutes')!r}") from None
    if minutes <= 0:
        raise ValueError("minutes must be more than zero")
    return minutes


def set_first_response_due(ctx: ActionContext) -> str:
    """Stamp when the first answer is due, counted from the lead's creation, not from now.

    Counting from creation keeps the clock honest when the job runs late (a busy queue, a
    retry). A lead that already has a due time keeps it: a second run, or a due time typed
    in by a manager or an import, changes nothing.
    """
    minutes = _minutes(ctx.params)
    lead = sdk.read_record(ctx.entity_type, ctx.record_id)
    if lead.get("first_response_due"):
        return "already due at " + str(lead["first_response_due"])
    due = datetime.fromisoformat(lead["created_at"]) + timedelta(minutes=minutes)
    sdk.update_record(ctx.entity_type, ctx.record_id, {"first_response_due": due.isoformat()})
    return f"first response due at {due.isoformat()}"


def actions() -> list[ActionSpec]:
    return [
        ActionSpec(SLA_ACTION, "Set the first-response due time", set_first_response_due,
                   params={"minutes": "number"}),
    ]


def rule_templates() -> list[RuleTemplate]:
    return [
        RuleTemplate(
            key=SLA_RULE,
            name=f"Answer a new lead within {SLA_MINUTES} minutes",
            trigger="record.created",
            entity_type="lead",
            conditions=({"field": "first_response_due", "op": "empty"},),
            actions=({"type": SLA_ACTION, "params": {"minutes": SLA_MINUTES}},),
        ),
        # The bot hands a finished conversation over: a person owns the lead at once and
        # has a task due within the first-response time.
        RuleTemplate(
            key=BOT_HANDOFF_RULE,
            name="A lead from the bot goes to a manager",
            trigger="conversation.completed",
            entity_type="lead",
            actions=(
                # Every member in turn; an admin narrows it to the sales roles in the builder.
                {"type": "assign_owner", "params": {"strategy": "round_robin"}},
                {"type": "create_task", "params": {"title": "Answer the client: {need}",
                                                   "due_in_minutes": SLA_MINUTES}},
            ),
        ),
    ]
