"""Tenants as code: TOML manifests in ``tenants/`` that ``twofold tenants apply`` makes true.

Applying is idempotent: a second run changes nothing, a changed manifest updates names and
roles. Passwords are set only for users that do not exist yet. The packs a manifest lists
are enabled (seeding their defaults the first time); a pack the manifest does not list is
left as it is, so a pack an admin enabled by hand survives the next deploy. A listed pack
that is not installed (or the app runs in safe mode) is reported and skipped, so that the
other tenants and packs still apply.

``[[channels]]`` (``kind``, ``name``, optional ``flow``) connects chat channels that need no
secret, such as the website widget. A channel is known by its kind and name: one that
exists is left to the admins (its flow, its enabled switch), never duplicated. A channel
whose bot flow does not exist (its pack is not enabled, or does not ship it yet) is
reported and skipped; the next apply creates it once the flow is there.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from twofold.auth.models import Membership, User
from twofold.auth.passwords import hash_password
from twofold.auth.permissions import ROLES
from twofold.db import db
from twofold.plugins import plugins
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import tenant_scope
from twofold.tenancy.service import check_slug
from twofold.validation import normalise_email

log = logging.getLogger(__name__)


class ManifestError(ValueError):
    pass


@dataclass
class Applied:
    slug: str
    created: bool = False
    users: list[str] = field(default_factory=list)
    packs: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    # The kinds of the manifest's channels that exist now (not skipped), e.g. {"widget"}.
    channel_kinds: set[str] = field(default_factory=set)

    @property
    def summary(self) -> str:
        state = "created" if self.created else "up to date"
        text = f"{state}; users: {', '.join(self.users) or 'none'}; packs: {', '.join(self.packs) or 'none'}"
        return text + (f"; channels: {', '.join(self.channels)}" if self.channels else "")


def load(path: Path) -> dict:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    for key in ("slug", "name"):
        if not data.get(key):
            raise ManifestError(f"{path}: '{key}' is required")
    check_slug(data["slug"])
    for user in data.get("users", []):
        if user.get("role", "agent") not in ROLES:
            raise ManifestError(f"{path}: role must be one of {ROLES}")
    packs = data.get("packs", [])
    if not isinstance(packs, list) or not all(isinstance(name, str) and name for name in packs):
        raise ManifestError(f"{path}: 'packs' must be a list of pack names")
    channels = data.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, dict) for c in channels):
        raise ManifestError(f"{path}: 'channels' must be [[channels]] tables")
    for channel in channels:
        for key in ("kind", "name"):
            if not isinstance(channel.get(key), str) or not channel[key].strip():
                raise ManifestError(f"{path}: every [[channels]] needs a '{key}'")
        if channel.get("flow") is not None and not isinstance(channel["flow"], str):
            raise ManifestError(f"{path}: a channel's 'flow' is a bot flow's key")
    return data


def apply(data: dict) -> Applied:
    applied = Applied(slug=data["slug"])
    tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == data["slug"]))
    if tenant is None:
        tenant = Tenant(slug=data["slug"], name=data["name"])
        db.session.add(tenant)
        db.session.flush()
        applied.created = True
    tenant.name = data["name"]
    for spec in data.get("users", []):
        email = normalise_email(spec["email"])
        user = db.session.scalar(db.select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=spec.get("name", ""), password_hash=hash_password(spec["password"]))
            db.session.add(user)
            db.session.flush()
        with tenant_scope(tenant.id):
            membership = db.session.scalar(db.select(Membership).where(Membership.user_id == user.id))
            if membership is None:
                db.session.add(Membership(user_id=user.id, role=spec.get("role", "agent")))
            else:
                membership.role = spec.get("role", membership.role)
            db.session.flush()
        applied.users.append(f"{email} ({spec.get('role', 'agent')})")
    applied.packs = _enable_packs(tenant, data.get("packs", []))
    applied.channels = _connect_channels(tenant, data.get("channels", []), applied.channel_kinds)
    db.session.commit()
    return applied


def _enable_packs(tenant: Tenant, names: list[str]) -> list[str]:
    from twofold.packs import service

    installed = plugins().packs()
    done = []
    for name in names:
        if name not in installed:
            log.warning("tenant %s: pack '%s' is not installed; not enabled", tenant.slug, name)
            done.append(f"{name} (not installed)")
            continue
        with tenant_scope(tenant.id):
            service.enable_as_system(name)
            db.session.flush()
        done.append(name)
    return done


def _connect_channels(tenant: Tenant, specs: list[dict], kinds: set[str]) -> list[str]:
    from twofold.auth.permissions import SYSTEM, acting_as
    from twofold.channels import service
    from twofold.channels.models import Channel
    from twofold.validation import ValidationError

    done = []
    for spec in specs:
        kind, name, flow = spec["kind"].strip(), spec["name"].strip(), spec.get("flow") or None
        label = f"{name} ({kind})"
        with tenant_scope(tenant.id), acting_as(SYSTEM):
            existing = db.session.scalar(
                db.select(Channel).where(Channel.kind == kind, Channel.name == name[:120])
            )
            if existing is not None:
                kinds.add(kind)
                done.append(label)
                continue
            if flow and service.flow_definition_row(flow) is None:
                log.warning(
                    "tenant %s: channel '%s' skipped: bot flow '%s' does not exist (is its pack "
                    "enabled, and does it ship that flow yet?)", tenant.slug, name, flow,
                )
                done.append(f"{label} (skipped: no bot flow {flow})")
                continue
            savepoint = db.session.begin_nested()
            try:
                service.connect(kind, name, flow, {})
                savepoint.commit()
            except ValidationError as exc:
                savepoint.rollback()
                log.warning("tenant %s: channel '%s' skipped: %s", tenant.slug, name, exc.messages)
                done.append(f"{label} (skipped: {exc.messages})")
                continue
        kinds.add(kind)
        done.append(f"{label}, created")
    return done


def apply_path(path: str | Path) -> list[Applied]:
    path = Path(path)
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    return [apply(load(file)) for file in files]


def demo_logins(path: str | Path) -> list[tuple[str, str, str]]:
    """(tenant slug, email, password) for every user in the manifests, for ``make run``."""
    path = Path(path)
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    return [
        (data["slug"], user["email"], user["password"])
        for data in (load(f) for f in files)
        for user in data.get("users", [])
    ]
