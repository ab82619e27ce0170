"""The core's own features, registered through the same hooks as any plugin."""

from __future__ import annotations

from twofold.packs.meta import NavItem
from twofold.sdk_markers import hookimpl


@hookimpl
def twofold_navigation() -> list[NavItem]:
    # Order 900 and above: the settings menu of the layout (see twofold.web.nav).
    return [
        NavItem("Pipelines", "pipelines.settings", order=800),
        NavItem("Members", "settings.members", order=900, min_role="manager"),
        NavItem("Packs", "packs.settings", order=910, min_role="admin"),
        NavItem("Fields", "fields.settings", order=920, min_role="admin"),
        NavItem("API tokens", "settings.api_tokens", order=930),
        NavItem("API docs", "api_docs.page", order=935),
        NavItem("Security log", "settings.security", order=940, min_role="admin"),
    ]
