"""The plugin manager, built per app in :func:`twofold.app.create_app`.

Plugins are installed distributions that declare an entry point in the
``twofold.plugins`` group (the B2C and B2B packs among them). Safe mode
(``TWOFOLD_SAFE_MODE=1``) starts the app with none of them.
"""

from __future__ import annotations

import logging

import pluggy
from flask import Flask

from twofold import hookspecs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "twofold.plugins"


def build_manager(app: Flask) -> pluggy.PluginManager:
    manager = pluggy.PluginManager("twofold")
    manager.add_hookspecs(hookspecs)
    if app.config.get("SAFE_MODE"):
        log.warning("safe mode: no third-party plugins loaded")
    else:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in app.config.get("EXTRA_PLUGINS", ()):
        manager.register(plugin)
    # A misspelled hook name in a plugin fails at start-up, not silently at run time.
    manager.check_pending()
    return manager


def plugin_names(manager: pluggy.PluginManager) -> list[str]:
    return sorted(
        name for name, plugin in manager.list_name_plugin() if plugin is not None
    )
