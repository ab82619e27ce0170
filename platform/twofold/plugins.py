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

import functools
import importlib.metadata
import logging
import threading
import typing
from collections.abc import Iterable
from dataclasses import dataclass, replace
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
        registered = self.manager.register(plugin, name=name)
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError:
            self.manager.unregister(name=registered)  # a refused plugin must not stay half-in
            raise
        finally:
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
        expected = _returns(hook_name)
        for impl in reversed(getattr(self.manager.hook, hook_name).get_hookimpls()):
            try:
                value = impl.function()
                _check_returned(value, expected)
                results.append((impl.plugin_name, value, None))
            except Exception as exc:
                log.exception("plugin '%s' failed in %s", impl.plugin_name, hook_name)
                results.append((impl.plugin_name, None, exc))
        with self._lock:
            self._cache[hook_name] = results
        return results

    def pack_names(self) -> frozenset[str]:
        """Plugins that are packs: they implement ``twofold_pack`` (even if it raised)."""
        return frozenset(impl.plugin_name for impl in self.manager.hook.twofold_pack.get_hookimpls())

    def packs(self) -> dict[str, Any]:
        """Every installed pack's :class:`PackInfo`, by plugin name.

        The plugin's name is what tenants enable, so it is the pack's name whatever the
        plugin wrote in ``PackInfo.name``. A pack whose ``twofold_pack`` raised is left out.
        """
        out = {}
        for name, value, error in self.results("twofold_pack"):
            if error is None and value is not None:
                if value.name != name:
                    value = replace(value, name=name)
                out[name] = value
        return out

    def collect(self, hook_name: str, enabled: Iterable[str] | None) -> list[Contribution]:
        """Results of a registration hook from the core and the given enabled packs.

        A plugin that failed raises :class:`PluginFailed`, but only for tenants that have
        it enabled; everyone else goes on.
        """
        out, failures = self.collect_safely(hook_name, enabled)
        if failures:
            raise next(iter(failures.values()))
        return out

    def collect_safely(
        self, hook_name: str, enabled: Iterable[str] | None
    ) -> tuple[list[Contribution], dict[str, PluginFailed]]:
        """Like :meth:`collect`, but a failed plugin is left out and reported, not raised.

        ``enabled`` names the packs to include (``None``: every pack); plugins that are not
        packs (the core's own) are always included.
        """
        packs = self.pack_names()
        wanted = None if enabled is None else set(enabled)
        failures: dict[str, PluginFailed] = {}
        # A pack whose own description fails is broken for the tenants that enabled it.
        for name, _value, error in self.results("twofold_pack"):
            if error is not None and (wanted is None or name in wanted):
                failures[name] = PluginFailed(name, "twofold_pack", error)
        out: list[Contribution] = []
        for name, value, error in self.results(hook_name):
            if (wanted is not None and name in packs and name not in wanted) or name in failures:
                continue
            if error is not None:
                failures[name] = PluginFailed(name, hook_name, error)
                continue
            out.extend(Contribution(name, item) for item in value or ())
        return out, failures

    def call_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call every plugin's implementation of a notification hook, naming a failing one."""
        for impl in reversed(getattr(self.manager.hook, hook_name).get_hookimpls()):
            self.call_for(impl.plugin_name, hook_name, **kwargs)

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


@functools.cache
def _returns(hook_name: str) -> tuple[str, type | None]:
    """What a registration hook returns, read from its annotation in :mod:`hookspecs`.

    ``("list", T)`` for a list of ``T``, ``("one", T)`` for a single ``T`` (or None).
    """
    hint = typing.get_type_hints(getattr(hookspecs, hook_name)).get("return")
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        return "list", item if isinstance(item, type) else None
    return "one", hint if isinstance(hint, type) and hint is not type(None) else None


def _check_returned(value: Any, expected: tuple[str, type | None]) -> None:
    """A plugin returning the wrong kind of thing fails as itself, not later in the core."""
    kind, item_type = expected
    if kind == "list":
        if value is None:
            return
        if not isinstance(value, list | tuple):
            raise TypeError(f"returned a {type(value).__name__}, not a list")
        values = value
    else:
        values = [] if value is None else [value]
    for item in values:
        if item_type is not None and not isinstance(item, item_type):
            raise TypeError(f"returned a {type(item).__name__} where a {item_type.__name__} belongs")


def build_manager(app: Flask) -> Plugins:
    from twofold import core_plugin

    manager = pluggy.PluginManager("twofold")
    manager.add_hookspecs(hookspecs)
    manager.register(core_plugin, name=CORE_PLUGIN)
    if app.config.get("SAFE_MODE"):
        log.warning("safe mode: no installed plugins loaded")
    else:
        _load_entry_points(manager)
    for plugin in app.config.get("EXTRA_PLUGINS", ()):
        if isinstance(plugin, tuple):
            manager.register(plugin[1], name=plugin[0])
        else:
            manager.register(plugin)
    # A misspelled hook name in a plugin fails at start-up, not silently at run time.
    manager.check_pending()
    return Plugins(manager)


class PluginLoadError(RuntimeError):
    """An installed plugin could not be imported: the app does not start half-equipped."""


def _load_entry_points(manager: pluggy.PluginManager) -> None:
    """Register every ``twofold.plugins`` entry point, naming the one that fails to import.

    pluggy's ``load_setuptools_entrypoints`` does the same but lets a bare ImportError
    escape; an operator needs to read which plugin (and which distribution) broke the start,
    and that safe mode starts without it.
    """
    for entry_point in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if manager.get_plugin(entry_point.name) is not None or manager.is_blocked(entry_point.name):
            continue
        try:
            plugin = entry_point.load()
        except Exception as exc:
            dist = entry_point.dist.name if entry_point.dist else "?"
            raise PluginLoadError(
                f"plugin '{entry_point.name}' ({entry_point.value}, distribution {dist}) failed to load: "
                f"{type(exc).__name__}: {exc}. Start with TWOFOLD_SAFE_MODE=1 to run without plugins."
            ) from exc
        manager.register(plugin, name=entry_point.name)


def plugins() -> Plugins:
    return current_app.extensions["twofold.plugins"]


def plugin_names(manager: Plugins | pluggy.PluginManager) -> list[str]:
    pm = manager.manager if isinstance(manager, Plugins) else manager
    return sorted(name for name, plugin in pm.list_name_plugin() if plugin is not None)
