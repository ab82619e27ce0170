"""The tenant's navigation, built from the registry: one link per visible entity type, then
the links the core and the tenant's enabled packs contribute, filtered by role.

Items with ``order`` 900 or more are the core's settings pages; the layout shows them in
a "Settings" menu. A pack that raised in a hook does not take the pages down: the registry
leaves it out (``TenantRegistry.failures``) and the layout shows a banner naming it; if
building the registry raises :class:`PluginFailed` anyway, the core's own links show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import g, url_for
from werkzeug.routing import BuildError

from twofold import core_plugin
from twofold.auth.permissions import maybe_current_actor, role_at_least
from twofold.packs import registry
from twofold.packs.meta import NavItem
from twofold.plugins import PluginFailed

log = logging.getLogger(__name__)

SETTINGS_ORDER = 900


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    endpoint: str


@dataclass
class Navigation:
    types: list[Link] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    settings: list[Link] = field(default_factory=list)
    failed_packs: list[str] = field(default_factory=list)


def _link(item: NavItem) -> Link | None:
    try:
        return Link(item.label, url_for(item.endpoint), item.endpoint)
    except BuildError:
        # A pack whose blueprint did not load still lists its link: leave it out.
        log.warning("navigation endpoint %s does not exist", item.endpoint)
        return None


def build() -> Navigation | None:
    membership = g.get("membership")
    if g.get("tenant") is None or membership is None:
        return None
    nav = Navigation()
    try:
        current = registry.current()
    except PluginFailed as exc:
        nav.failed_packs = [exc.plugin]
        items = sorted(core_plugin.twofold_navigation(), key=lambda n: n.order)
    else:
        nav.failed_packs = sorted(getattr(current, "failures", None) or ())
        items = current.navigation
        for etype in current.entity_types.values():
            nav.types.append(
                Link(etype.plural, url_for("records.index", type_name=etype.name), "records.index")
            )
    for item in items:
        if not role_at_least(membership.role, item.min_role):
            continue
        link = _link(item)
        if link is not None:
            (nav.settings if item.order >= SETTINGS_ORDER else nav.links).append(link)
    return nav


def context() -> dict[str, Any]:
    """Template globals for the layout: ``nav`` and ``actor`` (who is signed in, and their role)."""
    return {"nav": build(), "actor": maybe_current_actor()}
