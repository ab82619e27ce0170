"""The current tenant's view of everything plugins register: only its enabled packs, plus
the core, plus the tenant's own custom fields."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from flask import g, has_request_context

from twofold.automations.meta import ActionSpec
from twofold.entities.meta import EntityType, Field
from twofold.exceptions import NotFound
from twofold.metrics.meta import MetricSpec
from twofold.packs.meta import NavItem
from twofold.packs.service import enabled_packs
from twofold.plugins import PluginFailed, plugins
from twofold.tenancy.scope import current_tenant_id


class UnknownEntityType(NotFound):
    pass


@dataclass(frozen=True)
class TenantRegistry:
    entity_types: dict[str, EntityType]
    actions: dict[str, ActionSpec]
    metrics: dict[str, MetricSpec]
    navigation: list[NavItem]
    # Enabled plugins whose hooks raised, by name: what they register is missing, and
    # whatever looks for it fails naming them, while the tenant's other packs go on.
    failures: dict[str, PluginFailed] = field(default_factory=dict)

    def entity_type(self, name: str) -> EntityType:
        try:
            return self.entity_types[name]
        except KeyError:
            self.raise_failure()
            raise UnknownEntityType(name) from None

    def raise_failure(self) -> None:
        """Raise the first plugin failure, if any: a missing name may be that plugin's."""
        if self.failures:
            raise next(iter(self.failures.values()))


def _merge_types(
    contributions: list[tuple[str, EntityType]], failures: dict[str, PluginFailed]
) -> dict[str, EntityType]:
    """Packs may declare the same type (both packs know a ``contact``): fields are merged.

    A pack that names a field like a record's own key (``id``, ``title``…), or gives a
    field another type than an earlier pack gave it, fails: its declaration of the type is
    left out.
    """
    from twofold.entities.schemas import RESERVED_NAMES

    merged: dict[str, EntityType] = {}
    for plugin, etype in contributions:
        etype = replace(etype, pack=etype.pack or plugin)
        reserved = sorted(f.name for f in etype.fields if f.name in RESERVED_NAMES)
        if reserved:
            error = ValueError(f"{etype.name}: reserved field names {reserved}")
            failures.setdefault(plugin, PluginFailed(plugin, "twofold_entity_types", error))
            continue
        existing = merged.get(etype.name)
        if existing is None:
            merged[etype.name] = etype
            continue
        fields = list(existing.fields)
        clash = next(
            (new for new in etype.fields if (old := existing.field(new.name)) and old.type != new.type), None
        )
        if clash is not None:
            old = existing.field(clash.name)
            assert old is not None
            error = TypeError(f"{etype.name}.{clash.name} is {old.type} in another pack, {clash.type} here")
            failures.setdefault(plugin, PluginFailed(plugin, "twofold_entity_types", error))
            continue
        # Personal data for one pack is personal data: the flag is kept if either sets it.
        personal = {new.name for new in etype.fields if new.personal}
        fields = [replace(f, personal=True) if f.name in personal and not f.personal else f for f in fields]
        fields.extend(new for new in etype.fields if existing.field(new.name) is None)
        relations = existing.relations + tuple(r for r in etype.relations if r not in existing.relations)
        merged[etype.name] = replace(existing, fields=tuple(fields), relations=relations)
    return merged


def _with_custom_fields(types: dict[str, EntityType]) -> dict[str, EntityType]:
    from twofold.entities.custom_fields import custom_fields_by_type

    extra = custom_fields_by_type()
    out = {}
    for name, etype in types.items():
        custom = [f for f in extra.get(name, []) if etype.field(f.name) is None]
        out[name] = replace(etype, fields=etype.fields + tuple(custom)) if custom else etype
    return out


def build() -> TenantRegistry:
    enabled = enabled_packs()
    registry = plugins()
    failures: dict[str, PluginFailed] = {}

    def collect(hook: str) -> list[tuple[str, Any]]:
        contributions, failed = registry.collect_safely(hook, enabled)
        for name, error in failed.items():
            failures.setdefault(name, error)
        # Nothing of a failed plugin is used, whichever of its hooks failed.
        return [(c.plugin, c.value) for c in contributions]

    hooks = ("twofold_entity_types", "twofold_automation_actions", "twofold_metrics", "twofold_navigation")
    collected = {hook: collect(hook) for hook in hooks}

    def healthy(hook: str) -> list[tuple[str, Any]]:
        return [(p, v) for p, v in collected[hook] if p not in failures]

    while True:  # a clash found while merging fails a plugin: merge again without it
        known = len(failures)
        types = _merge_types(healthy("twofold_entity_types"), failures)
        if len(failures) == known:
            break
    return TenantRegistry(
        entity_types=_with_custom_fields(types),
        actions={a.name: replace(a, pack=p) for p, a in healthy("twofold_automation_actions")},
        metrics={m.name: m for _p, m in healthy("twofold_metrics")},
        navigation=sorted((n for _p, n in healthy("twofold_navigation")), key=lambda n: n.order),
        failures=failures,
    )


def current() -> TenantRegistry:
    """The registry for the tenant in scope, built once per request."""
    if not has_request_context():
        return build()
    cache = g.setdefault("_registry", {})
    key = current_tenant_id()
    if key not in cache:
        cache[key] = build()
    return cache[key]


def forget() -> None:
    if has_request_context():
        g.pop("_registry", None)


def entity_type(name: str) -> EntityType:
    return current().entity_type(name)


__all__ = ["EntityType", "Field", "TenantRegistry", "UnknownEntityType", "current", "entity_type"]
