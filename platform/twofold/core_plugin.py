"""The core's own features, registered through the same hooks as any plugin."""

from __future__ import annotations

from twofold.channels.meta import ChannelSpec
from twofold.entities.meta import EntityType, Field
from twofold.packs.meta import NavItem
from twofold.sdk_markers import hookimpl


@hookimpl
def twofold_navigation() -> list[NavItem]:
    # Order 900 and above: the settings menu of the layout (see twofold.web.nav).
    return [
        NavItem("Inbox", "inbox.index", order=50),
        NavItem("Pipelines", "pipelines.settings", order=800),
        NavItem("Automations", "automations.rules", order=850, min_role="admin"),
        NavItem("Members", "settings.members", order=900, min_role="manager"),
        NavItem("Packs", "packs.settings", order=910, min_role="admin"),
        NavItem("Fields", "fields.settings", order=920, min_role="admin"),
        NavItem("API tokens", "settings.api_tokens", order=930),
        NavItem("API docs", "api_docs.page", order=935),
        NavItem("Security log", "settings.security", order=940, min_role="admin"),
        NavItem("Integrations", "integrations.webhooks", order=945, min_role="admin"),
        NavItem("Channels", "channels.settings", order=946, min_role="admin"),
    ]


@hookimpl
def twofold_entity_types() -> list[EntityType]:
    # The core has no twofold_pack: its types are on for every tenant.
    return [
        EntityType(
            name="task", label="Task", title="subject",
            fields=(
                # "title" is a record's own key: the field is the subject, shown as the title.
                Field("subject", "text", label="Title", required=True),
                Field("due", "datetime"),
                # A task may follow up any record, of any type: not a (single-type) reference.
                Field("related_type", "text", label="Related type"),
                Field("related_id", "text", label="Related record"),
                Field("assignee", "user"),
                Field("done", "bool", default=False),
            ),
        )
    ]


@hookimpl
def twofold_channels() -> list[ChannelSpec]:
    from twofold.channels import json_channel, telegram, widget_views

    return [telegram.SPEC, json_channel.SPEC, widget_views.SPEC]
