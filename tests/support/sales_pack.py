"""A test-only pack with every field type, a relation role and a gated pipeline.

Registered on the test app for the tests that need it (:func:`installed`), enabled per
tenant like any pack. It uses only ``twofold.sdk``, as a real plugin does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from twofold import sdk
from twofold.sdk import hookimpl

PACK = "salestest"


@hookimpl
def twofold_pack() -> sdk.PackInfo:
    return sdk.PackInfo(PACK, "Sales (test)", "Companies and deals, for the page tests.")


@hookimpl
def twofold_entity_types() -> list[sdk.EntityType]:
    return [
        sdk.EntityType(
            name="company",
            label="Company",
            label_plural="Companies",
            title="name",
            fields=(
                sdk.Field("name", "text", required=True),
                sdk.Field("email", "email", unique=True),
                sdk.Field("phone", "phone"),
                sdk.Field("website", "url"),
                sdk.Field("employees", "number"),
                sdk.Field("founded", "date"),
                sdk.Field("next_call", "datetime"),
                sdk.Field("active", "bool"),
                sdk.Field("size", "choice", choices=("small", "large")),
                sdk.Field("tags", "multi_choice", choices=("vip", "partner", "cold")),
                sdk.Field("account_manager", "user"),
                sdk.Field("parent", "reference", reference="company"),
            ),
        ),
        sdk.EntityType(
            name="deal",
            label="Deal",
            title="name",
            fields=(
                sdk.Field("name", "text", required=True),
                sdk.Field("amount", "money", column="amount"),
                sdk.Field("currency", "text", column="currency"),
                sdk.Field("company", "reference", reference="company"),
            ),
            relations=(sdk.RelationRole("customer", "company", "Customer"),),
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
                sdk.StageSpec("lead", "Lead"),
                sdk.StageSpec("qualified", "Qualified", probability=30, required_fields=("amount",)),
                sdk.StageSpec(
                    "contract",
                    "Contract",
                    probability=70,
                    required_relations=(
                        sdk.RelationRequirement("customer", message="Add the customer company."),
                    ),
                ),
                sdk.StageSpec("won", "Won", kind="won", probability=100),
                sdk.StageSpec("lost", "Lost", kind="lost", requires_reason=True),
            ),
        )
    ]


@contextmanager
def installed(app: Flask) -> Iterator[None]:
    """The pack is installed on ``app`` for the duration (as if its distribution were)."""
    import sys

    manager = app.extensions["twofold.plugins"]
    module = sys.modules[__name__]
    manager.register(module, name=PACK)
    try:
        yield
    finally:
        manager.unregister(module)
