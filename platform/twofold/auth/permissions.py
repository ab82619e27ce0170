"""Roles, what each may do, and who is acting right now.

Services check permissions themselves (``require("members.manage")``), so a route that
forgets to hide a button still cannot do what its user may not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

ROLES = ("owner", "admin", "manager", "agent")

# Each permission names the least role that holds it; roles are ordered by power.
_RANK = {role: rank for rank, role in enumerate(reversed(ROLES))}
PERMISSIONS: dict[str, str] = {
    "tenant.view": "agent",
    "tokens.own": "agent",  # create and revoke one's own API tokens
    "tokens.manage": "admin",  # see and revoke everyone's tokens
    "members.view": "manager",
    "members.manage": "admin",
    "members.make_owner": "owner",
    "security_log.view": "admin",
    "packs.manage": "admin",
    "fields.manage": "admin",
    "pipelines.manage": "admin",
    "records.view": "agent",
    "records.edit": "agent",
    "records.delete": "manager",
    "records.merge": "manager",
    "records.import": "manager",
    "records.export": "manager",
    "stages.override": "admin",
    "automations.manage": "admin",
    "integrations.manage": "admin",
    "conversations.view": "agent",
    "conversations.reply": "agent",  # take over, reply, hand back, close
    "channels.manage": "admin",  # connect channels, edit bot flows
}


class PermissionDenied(Exception):
    """The acting user's role does not allow this action."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"your role does not allow {permission}")
        self.permission = permission


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    role: str
    via: str = "web"  # web, api, job, system

    def can(self, permission: str) -> bool:
        return role_at_least(self.role, PERMISSIONS[permission])


SYSTEM = Actor(user_id=None, role="owner", via="system")

_actor: ContextVar[Actor | None] = ContextVar("twofold_actor", default=None)


def role_at_least(role: str, least: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[least]


def current_actor() -> Actor:
    actor = _actor.get()
    if actor is None:
        raise PermissionDenied("anything (nobody is signed in)")
    return actor


def maybe_current_actor() -> Actor | None:
    return _actor.get()


def require(permission: str) -> Actor:
    actor = current_actor()
    if not actor.can(permission):
        raise PermissionDenied(permission)
    return actor


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def enter_actor(actor: Actor | None) -> object:
    return _actor.set(actor)


def leave_actor(token: object) -> None:
    _actor.reset(token)  # type: ignore[arg-type]
