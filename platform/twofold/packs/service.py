"""Enabling and disabling packs per tenant.

Disabling hides a pack's entity types, pipelines, pages and automations from the tenant
and keeps every row; enabling again brings them back. The first enabling seeds the pack's
defaults (its pipelines, then its own ``twofold_pack_enabled`` hook), idempotently.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import g, has_request_context

from twofold.auth import security_log
from twofold.auth.permissions import require
from twofold.db import db, utcnow
from twofold.exceptions import NotFound
from twofold.packs.meta import PackInfo
from twofold.packs.models import TenantPack
from twofold.plugins import plugins
from twofold.tenancy.scope import current_tenant_id, tenant_scope


class UnknownPack(NotFound):
    pass


@dataclass(frozen=True)
class PackState:
    info: PackInfo
    enabled: bool


def enabled_packs(tenant_id: uuid.UUID | None = None) -> frozenset[str]:
    """Names of the packs the current tenant has enabled (cached for the request)."""
    tenant_id = tenant_id or current_tenant_id()
    cache = g.setdefault("_enabled_packs", {}) if has_request_context() else {}
    if tenant_id not in cache:
        # Every installed pack, including one whose description fails: for the tenants
        # that enabled it, that fails clearly instead of quietly hiding its data.
        installed = plugins().pack_names()
        with tenant_scope(tenant_id):
            names = db.session.scalars(db.select(TenantPack.pack).where(TenantPack.enabled.is_(True))).all()
        cache[tenant_id] = frozenset(name for name in names if name in installed)
    return cache[tenant_id]


def _forget_cache() -> None:
    if has_request_context():
        g.pop("_enabled_packs", None)
        g.pop("_registry", None)


def states() -> list[PackState]:
    enabled = enabled_packs()
    return [
        PackState(info, name in enabled)
        for name, info in sorted(plugins().packs().items())
    ]


def _info(name: str) -> PackInfo:
    info = plugins().packs().get(name)
    if info is None:
        raise UnknownPack(name)
    return info


def enable(name: str) -> PackState:
    actor = require("packs.manage")
    info = _info(name)
    row = db.session.scalar(db.select(TenantPack).where(TenantPack.pack == name))
    if row is None:
        row = TenantPack(pack=name, enabled=True, seeded=False)
        db.session.add(row)
    elif row.enabled:
        return PackState(info, True)
    row.enabled = True
    row.changed_at = utcnow()
    db.session.flush()
    _forget_cache()
    from twofold.pipelines import seeding

    seeding.seed_pipelines(name)
    from twofold.automations import templates

    templates.seed_rules(name)
    from twofold.channels import service as channels

    channels.seed_flows(name)
    plugins().call_for(name, "twofold_pack_enabled", tenant_id=current_tenant_id())
    row.seeded = True
    security_log.record("pack.enabled", user_id=actor.user_id, pack=name)
    return PackState(info, True)


def disable(name: str) -> PackState:
    actor = require("packs.manage")
    info = _info(name)
    row = db.session.scalar(db.select(TenantPack).where(TenantPack.pack == name))
    if row is not None and row.enabled:
        row.enabled = False
        row.changed_at = utcnow()
        _forget_cache()
        security_log.record("pack.disabled", user_id=actor.user_id, pack=name)
    return PackState(info, False)


def enable_as_system(name: str) -> None:
    """Enable a pack from platform code (tenant manifests) with the system's rights."""
    from twofold.auth.permissions import SYSTEM, acting_as

    with acting_as(SYSTEM):
        enable(name)
