"""The current tenant's view of everything plugins register: only its enabled packs, plus
the core, plus the tenant's own custom fields."""

from __future__ import annotations

from dataclasses import dataclass, replace
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

    def entity_type(self, name: str) -> EntityType:
        try:
            return self.entity_types[name]
        except KeyError:
            raise UnknownEntityType(name) from None


def _merge_types(contributions: list[tuple[str, EntityType]]) -> dict[str, EntityType]:
    """Packs may declare the same type (both packs know a ``contact``): fields are merged."""
    from twofold.entities.schemas import RESERVED_NAMES

    merged: dict[str, EntityType] = {}
    for plugin, etype in contributions:
        etype = replace(etype, pack=etype.pack or plugin)
        clashes = sorted(f.name for f in etype.fields if f.name in RESERVED_NAMES)
        if clashes:
            raise PluginFailed(
                plugin, "twofold_entity_types", ValueError(f"{etype.name}: reserved field names {clashes}")
            )
        existing = merged.get(etype.name)
        if existing is None:
            merged[etype.name] = etype
            continue
        fields = list(existing.fields)
        for new in etype.fields:
            old = existing.field(new.name)
            if old is None:
                fields.append(new)
            elif old.type != new.type:
                raise PluginFailed(
                    plugin, "twofold_entity_types",
                    TypeError(f"{etype.name}.{new.name} is {old.type} in another pack, {new.type} here"),
                )
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

    def collect(hook: str) -> list[tuple[str, Any]]:
        return [(c.plugin, c.value) for c in registry.collect(hook, enabled)]

    types = _with_custom_fields(_merge_types(collect("twofold_entity_types")))
    return TenantRegistry(
        entity_types=types,
        actions={a.name: replace(a, pack=p) for p, a in collect("twofold_automation_actions")},
        metrics={m.name: m for _p, m in collect("twofold_metrics")},
        navigation=sorted((n for _p, n in collect("twofold_navigation")), key=lambda n: n.order),
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
