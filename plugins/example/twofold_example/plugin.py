"""The example pack: support tickets with a pipeline, an action, a metric and a page.

Everything comes from ``twofold.sdk``, the only core module a plugin may import.
"""

from __future__ import annotations

from flask import render_template

from twofold import sdk
from twofold.sdk import hookimpl

PACK = "example"


@hookimpl
def twofold_pack() -> sdk.PackInfo:
    return sdk.PackInfo(PACK, "Support tickets", "Track customer requests from new to resolved.")


@hookimpl
def twofold_entity_types() -> list[sdk.EntityType]:
    return [
        sdk.EntityType(
            name="ticket", label="Ticket", title="subject",
            fields=(
                sdk.Field("subject", "text", required=True),
                sdk.Field("requester_email", "email", label="Requester", indexed=True, personal=True),
                sdk.Field("priority", "choice", choices=("low", "normal", "high"), default="normal"),
                sdk.Field("resolution", "text"),
            ),
        )
    ]


@hookimpl
def twofold_pipelines() -> list[sdk.PipelineSpec]:
    return [
        sdk.PipelineSpec(
            key="support", name="Support", entity_type="ticket",
            stages=(
                sdk.StageSpec("new", "New"),
                sdk.StageSpec("working", "Working", probability=50),
                # A ticket cannot be resolved without saying how.
                sdk.StageSpec("resolved", "Resolved", kind="won", probability=100,
                              required_fields=("resolution",)),
                sdk.StageSpec("rejected", "Rejected", kind="lost", requires_reason=True),
            ),
        )
    ]


def escalate(ctx: sdk.ActionContext) -> str:
    """Raise a ticket's priority to high.

    Actions may run twice (a retried job): this one checks before it writes, so a second
    run changes nothing. An action with outside effects would remember ``ctx.idempotency_key``.
    """
    if sdk.read_record(ctx.entity_type, ctx.record_id)["priority"] == "high":
        return "already high"
    sdk.update_record(ctx.entity_type, ctx.record_id, {"priority": "high"})
    return "escalated"


@hookimpl
def twofold_automation_actions() -> list[sdk.ActionSpec]:
    return [sdk.ActionSpec("example.escalate", "Escalate the ticket", escalate)]


@hookimpl
def twofold_rule_templates() -> list[sdk.RuleTemplate]:
    # Switched on for a company when it enables the pack; admins may edit or disable it.
    return [
        sdk.RuleTemplate(
            key="example.escalate_quiet",
            name="Escalate tickets left quiet for a day",
            trigger="no_activity:1440",
            entity_type="ticket",
            conditions=({"field": "priority", "op": "in", "value": ["low", "normal"]},),
            actions=({"type": "example.escalate", "params": {}},),
        ),
    ]


@hookimpl
def twofold_metrics() -> list[sdk.MetricSpec]:
    return [
        sdk.MetricSpec("example.open_tickets", "Open tickets by priority", "ticket",
                       where={"stage_kind": "open"}, group_by="priority"),
    ]


@hookimpl
def twofold_navigation() -> list[sdk.NavItem]:
    return [sdk.NavItem("Tickets summary", "pack_example.summary", order=50)]


bp = sdk.pack_blueprint(PACK, __name__, url_prefix="/tickets", template_folder="templates")


@bp.get("/summary")
def summary() -> str:
    return render_template("example_summary.html", metric=sdk.compute_metric("example.open_tickets"))


@hookimpl
def twofold_blueprints() -> list:
    return [bp]
