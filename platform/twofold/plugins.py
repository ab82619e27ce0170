"""The plugin manager, built per app in :func:`twofold.app.create_app`, and how hooks are
called for one tenant.

Plugins are installed distributions that declare an entry point in the ``twofold.plugins``
group (the B2C and B2B packs among them); the core's own features register through the
same hooks as the ``core`` plugin. Safe mode (``TWOFOLD_SAFE_MODE=1``) loads no installed
plugin.

Registration hooks are called one plugin at a time rather than through pluggy's combined
call, for two reasons: a tenant only sees the packs it enabled, and a plugin that raises
must be named in the error and the log, and must not take the other packs down with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy
from flask import Flask, current_app

from twofold import hookspecs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "twofold.plugins"
CORE_PLUGIN = "core"


class PluginFailed(RuntimeError):
    """A plugin raised inside a hook; the request or job that needed it fails clearly."""

    def __init__(self, plugin: str, hook: str, error: BaseException) -> None:
        super().__init__(f"plugin '{plugin}' failed in {hook}: {type(error).__name__}: {error}")
        self.plugin = plugin
        self.hook = hook


@dataclass(frozen=True)
class Contribution:
    plugin: str
    value: Any


class Plugins:
    """The app's plugins: which are packs, and each hook's results, per plugin."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self._cache: dict[str, list[tuple[str, Any, BaseException | None]]] = {}
        self._lock = threading.Lock()

    @property
    def hook(self) -> Any:
        return self.manager.hook

    def register(self, plugin: object, name: str | None = None) -> None:
        self.manager.register(plugin, name=name)
        self.manager.check_pending()
        self._cache.clear()

    def unregister(self, plugin: object) -> None:
        self.manager.unregister(plugin)
        self._cache.clear()

    def results(self, hook_name: str) -> list[tuple[str, Any, BaseException | None]]:
        cached = self._cache.get(hook_name)
        if cached is not None:
            return cached
        results: list[tuple[str, Any, BaseException | None]] = []
        # pluggy calls the most recently registered implementation first; keep that order.
        for impl in reversed(getattr(self.manager.hook, hook_name).get_hookimpls()):
            try:
                results.append((impl.plugin_name, impl.function(), None))
            except Exception as exc:
                log.exception("plugin '%s' failed in %s", impl.plugin_name, hook_name)
                results.append((impl.plugin_name, None, exc))
        with self._lock:
            self._cache[hook_name] = results
        return results

    def packs(self) -> dict[str, Any]:
        """Every installed pack's :class:`PackInfo`, by plugin name."""
        return {
            name: value
            for name, value, error in self.results("twofold_pack")
            if error is None and value is not None
        }

    def collect(self, hook_name: str, enabled: Iterable[str] | None) -> list[Contribution]:
        """Results of a registration hook from the core and the given enabled packs.

        A plugin that failed raises :class:`PluginFailed`, but only for tenants that have
        it enabled; everyone else goes on.
        """
        packs = self.packs()
        wanted = None if enabled is None else set(enabled)
        out: list[Contribution] = []
        for name, value, error in self.results(hook_name):
            if wanted is not None and name in packs and name not in wanted:
                continue
            if error is not None:
                raise PluginFailed(name, hook_name, error)
            for item in value or ():
                out.append(Contribution(name, item))
        return out

    def call_for(self, plugin_name: str, hook_name: str, **kwargs: Any) -> None:
        """Call one plugin's implementation of a notification hook, naming it on failure."""
        for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
            if impl.plugin_name != plugin_name:
                continue
            try:
                impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as exc:
                log.exception("plugin '%s' failed in %s", plugin_name, hook_name)
                raise PluginFailed(plugin_name, hook_name, exc) from exc


def build_manager(app: Flask) -> Plugins:
    from twofold import core_plugin

    manager = pluggy.PluginManager("twofold")
    manager.add_hookspecs(hookspecs)
    manager.register(core_plugin, name=CORE_PLUGIN)
    if app.config.get("SAFE_MODE"):
        log.warning("safe mode: no installed plugins loaded")
    else:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in app.config.get("EXTRA_PLUGINS", ()):
        if isinstance(plugin, tuple):
            manager.register(plugin[1], name=plugin[0])
        else:
            manager.register(plugin)
    # A misspelled hook name in a plugin fails at start-up, not silently at run time.
    manager.check_pending()
    return Plugins(manager)


def plugins() -> Plugins:
    return current_app.extensions["twofold.plugins"]


def plugin_names(manager: Plugins | pluggy.PluginManager) -> list[str]:
    pm = manager.manager if isinstance(manager, Plugins) else manager
    return sorted(name for name, plugin in pm.list_name_plugin() if plugin is not None)
