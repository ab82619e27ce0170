"""A test pack, "widgets", written as a third-party author would (only ``twofold.sdk``).

``WidgetsPack(fail_in=...)`` is the same pack with a bug in one hook, or in its action, as
a broken release of a real plugin would be.
"""

from __future__ import annotations

import uuid

from twofold import sdk
from twofold.sdk import hookimpl

NAME = "widgets"


class WidgetsPack:
    def __init__(self, *, fail_in: str = "") -> None:
        self.fail_in = fail_in
        self.enabled_for: list[uuid.UUID] = []

    def _maybe_fail(self, where: str) -> None:
        if self.fail_in == where:
            raise RuntimeError(f"widgets bug in {where}")

    @hookimpl
    def twofold_pack(self) -> sdk.PackInfo:
        self._maybe_fail("twofold_pack")
        return sdk.PackInfo(NAME, "Widgets", "Widgets for the tests.")

    @hookimpl
    def twofold_entity_types(self) -> list[sdk.EntityType]:
        self._maybe_fail("twofold_entity_types")
        return [
            sdk.EntityType(
                "widget", "Widget",
                fields=(
                    sdk.Field("name", required=True),
                    sdk.Field("colour", "choice", choices=("red", "blue")),
                ),
            )
        ]

    @hookimpl
    def twofold_pipelines(self) -> list[sdk.PipelineSpec]:
        return [
            sdk.PipelineSpec(
                "assembly", "Assembly", "widget",
                stages=(sdk.StageSpec("parts", "Parts"), sdk.StageSpec("built", "Built", kind="won")),
            )
        ]

    def paint(self, ctx: sdk.ActionContext) -> str:
        self._maybe_fail("paint")
        sdk.update_record(ctx.entity_type, ctx.record_id, {"colour": ctx.params.get("colour", "red")})
        return "painted"

    @hookimpl
    def twofold_automation_actions(self) -> list[sdk.ActionSpec]:
        return [sdk.ActionSpec("widgets.paint", "Paint the widget", self.paint, params={"colour": "choice"})]

    @hookimpl
    def twofold_metrics(self) -> list[sdk.MetricSpec]:
        return [sdk.MetricSpec("widgets.count", "Widgets", "widget")]

    @hookimpl
    def twofold_pack_enabled(self, tenant_id: uuid.UUID) -> None:
        """Seed a sample widget, once: enabling again after a disable finds it there."""
        self._maybe_fail("twofold_pack_enabled")
        self.enabled_for.append(tenant_id)
        if not sdk.list_records("widget", q="sample", limit=1).records:
            sdk.create_record("widget", {"name": "Sample widget", "colour": "blue"})


class GadgetsPack:
    """A second test pack, "gadgets", whose gadget type names a field ``field``."""

    def __init__(self, field: str = "size") -> None:
        self.field = field

    @hookimpl
    def twofold_pack(self) -> sdk.PackInfo:
        return sdk.PackInfo("gadgets", "Gadgets")

    @hookimpl
    def twofold_entity_types(self) -> list[sdk.EntityType]:
        fields = (sdk.Field("name", required=True), sdk.Field(self.field))
        return [sdk.EntityType("gadget", "Gadget", fields=fields)]
