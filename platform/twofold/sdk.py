"""The one module plugins import from the core.

Everything a plugin needs is here: the hook marker, the metadata classes its hooks return,
and the public services. Deeper modules may change between releases; this one changes
only with notice.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from twofold.automations.meta import ActionContext, ActionSpec, RuleTemplate, TriggerSpec
from twofold.channels.meta import BotFlowSpec, BotStep, ChannelSpec, Inbound, IntegrationSpec, Outbound
from twofold.entities import query as _query
from twofold.entities import relations as _relations
from twofold.entities import service as _records
from twofold.entities.meta import EntityType, Field, RelationRole
from twofold.metrics.meta import DashboardSpec, MetricSpec
from twofold.packs.meta import NavItem, PackInfo
from twofold.pipelines import service as _pipelines
from twofold.pipelines.meta import PipelineSpec, RelationRequirement, StageSpec
from twofold.sdk_markers import hookimpl
from twofold.tenancy.scope import current_tenant_id


def pack_blueprint(pack: str, import_name: str, **kwargs: Any) -> Blueprint:
    """A blueprint for a pack's pages: under ``/t/<tenant>/``, 404 where the pack is off."""
    from twofold.tenancy.resolve import tenant_blueprint

    return tenant_blueprint(f"pack_{pack}", import_name, pack=pack, **kwargs)


# Public services, as plain functions. They act in the current tenant, as the current user.
create_record = _records.create
get_record = _records.get
update_record = _records.update
delete_record = _records.delete
list_records = _query.list_records


def read_record(type_name: str, record_id: Any) -> dict[str, Any]:
    """A record as the API shows it: id, title, stage and every field's value."""
    from twofold.packs import registry

    return _records.to_json(registry.entity_type(type_name), _records.get(type_name, record_id))


relate = _relations.relate
move_record = _pipelines.move


def compute_metric(name: str, **kwargs: Any) -> Any:
    from twofold.metrics import engine

    return engine.compute(name, **kwargs)


__all__ = [
    "ActionContext",
    "ActionSpec",
    "BotFlowSpec",
    "BotStep",
    "ChannelSpec",
    "DashboardSpec",
    "EntityType",
    "Field",
    "Inbound",
    "IntegrationSpec",
    "MetricSpec",
    "NavItem",
    "Outbound",
    "PackInfo",
    "PipelineSpec",
    "RelationRequirement",
    "RelationRole",
    "RuleTemplate",
    "StageSpec",
    "TriggerSpec",
    "compute_metric",
    "create_record",
    "current_tenant_id",
    "delete_record",
    "get_record",
    "hookimpl",
    "list_records",
    "move_record",
    "pack_blueprint",
    "read_record",
    "relate",
    "update_record",
]
