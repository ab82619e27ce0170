"""A test-only pack with every field type, relations with roles and a gated pipeline."""

from __future__ import annotations

from twofold import sdk
from twofold.sdk import hookimpl

NAME = "testcrm"


@hookimpl
def twofold_pack() -> sdk.PackInfo:
    return sdk.PackInfo(NAME, "Test CRM", "Every field type, for the engine's tests.")


@hookimpl
def twofold_entity_types() -> list[sdk.EntityType]:
    return [
        sdk.EntityType(
            name="person",
            label="Person",
            label_plural="People",
            title="{first_name} {last_name}",
            fields=(
                sdk.Field("first_name", required=True),
                sdk.Field("last_name"),
                sdk.Field("email", "email", unique=True, personal=True),
                sdk.Field("phone", "phone", unique=True, personal=True),
                sdk.Field("website", "url"),
                sdk.Field("age", "number", indexed=True),
                sdk.Field("vip", "bool", default=False),
                sdk.Field("birthday", "date", personal=True),
                sdk.Field("last_seen", "datetime"),
                sdk.Field("segment", "choice", choices=("retail", "wholesale")),
                sdk.Field("tags", "multi_choice", choices=("new", "loyal", "risky")),
            ),
        ),
        sdk.EntityType(
            name="deal",
            label="Deal",
            title="name",
            fields=(
                sdk.Field("name", required=True),
                sdk.Field("amount", "money", column="amount"),
                sdk.Field("currency", column="currency", default="RUB"),
                sdk.Field("manager", "user"),
                sdk.Field("lost_reason"),
            ),
            relations=(sdk.RelationRole("signer", "person"), sdk.RelationRole("contract", "document")),
        ),
        sdk.EntityType(
            name="document",
            label="Document",
            title="name",
            fields=(
                sdk.Field("name", required=True),
                sdk.Field("status", "choice", choices=("draft", "approved"), default="draft"),
            ),
        ),
    ]


@hookimpl
def twofold_pipelines() -> list[sdk.PipelineSpec]:
    return [
        sdk.PipelineSpec(
            key="sales",
            name="Sales",
            entity_type="deal",
            stages=(
                sdk.StageSpec("new", "New", probability=10),
                sdk.StageSpec("proposal", "Proposal", probability=40, required_fields=("amount",)),
                sdk.StageSpec(
                    "contract",
                    "Contract",
                    probability=80,
                    required_relations=(
                        sdk.RelationRequirement("signer"),
                        sdk.RelationRequirement("contract", where={"status": "approved"}),
                    ),
                ),
                sdk.StageSpec("won", "Won", kind="won", probability=100),
                sdk.StageSpec("lost", "Lost", kind="lost", requires_reason=True),
                sdk.StageSpec("on_hold", "On hold", kind="on_hold", requires_reason=True),
            ),
        )
    ]


@hookimpl
def twofold_metrics() -> list[sdk.MetricSpec]:
    return [
        sdk.MetricSpec(
            "testcrm.pipeline_value",
            "Open pipeline value",
            "deal",
            aggregate="sum",
            column="amount",
            where={"stage_kind": "open"},
        ),
        sdk.MetricSpec("testcrm.deals_by_stage", "Deals by stage", "deal", group_by="stage"),
    ]
