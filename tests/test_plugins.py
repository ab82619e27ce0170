"""The packs load as third-party plugins do; safe mode and misspelled hooks behave."""

from __future__ import annotations

import pytest
from flask import Flask
from pluggy import PluginValidationError

from twofold.app import create_app
from twofold.plugins import plugin_names
from twofold.sdk import hookimpl


def _config_like(app: Flask, **extra: object) -> dict:
    keys = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "TESTING")
    return {**{k: app.config[k] for k in keys}, **extra}


def test_the_packs_are_found_through_the_entry_point_group(app: Flask) -> None:
    names = plugin_names(app.extensions["twofold.plugins"])
    assert {"b2c", "b2b"} <= set(names)


def test_safe_mode_loads_no_third_party_plugin(app: Flask) -> None:
    safe = create_app(_config_like(app, SAFE_MODE=True))
    assert not {"b2c", "b2b"} & set(plugin_names(safe.extensions["twofold.plugins"]))


class _Misspelled:
    @hookimpl
    def twofold_tenant_creatd(self, tenant_id):  # the typo is the point
        pass


def test_a_misspelled_hook_stops_the_app_at_start_up(app: Flask) -> None:
    with pytest.raises(PluginValidationError, match="twofold_tenant_creatd"):
        create_app(_config_like(app, EXTRA_PLUGINS=[_Misspelled()]))
