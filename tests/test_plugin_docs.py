"""Every hook in the contract is documented, with its signature and an example that runs."""

from __future__ import annotations

import inspect
import logging
import re
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.support.factories import login, signup
from twofold import hookspecs
from twofold.app import create_app

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugin_hooks.md"


def _hook_names() -> list[str]:
    functions = inspect.getmembers(hookspecs, inspect.isfunction)
    return [name for name, _ in functions if name.startswith("twofold_")]


def _sections() -> dict[str, str]:
    text = DOCS.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {part.splitlines()[0].strip(): part for part in parts}


def test_the_contract_has_hooks() -> None:
    assert "twofold_tenant_created" in _hook_names()


def test_every_hook_is_documented_with_its_signature_and_an_example() -> None:
    sections = _sections()
    for name in _hook_names():
        assert name in sections, f"{name} is not documented in {DOCS.name}"
        section = sections[name]
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"`{name}({params})`" in section, f"{name}: the signature in the docs is out of date"
        assert "```python" in section and f"def {name}(" in section, f"{name}: no runnable example"


def test_every_documented_hook_exists() -> None:
    assert set(_sections()) <= set(_hook_names())


def test_every_hook_has_a_docstring() -> None:
    for name in _hook_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"


# --- the examples run --------------------------------------------------------------------
#
# Each hook's example is executed as a plugin module, registered on the app as an installed
# plugin would be, and its hook called the way the core calls it: registration hooks
# through the plugin manager (answering the kind of object hookspecs.py declares),
# notification hooks through the flows that fire them (signup, enabling a pack).


def _example(hook: str) -> str:
    match = re.search(r"```python\n(.*?)```", _sections()[hook], flags=re.DOTALL)
    assert match, f"{hook}: no python example"
    return match.group(1)


def _load_example(hook: str) -> types.ModuleType:
    module = types.ModuleType(f"docs_example_{hook}")
    exec(compile(_example(hook), f"{DOCS.name}#{hook}", "exec"), module.__dict__)
    return module


def _plugin_name(module: types.ModuleType, hook: str) -> str:
    # A pack is registered under its own name, as its entry point would name it.
    pack = getattr(module, "twofold_pack", None)
    return pack().name if pack else f"docs-{hook}"


@contextmanager
def _registered(app: Flask, module: types.ModuleType, name: str) -> Iterator[None]:
    plugins = app.extensions["twofold.plugins"]
    plugins.register(module, name=name)
    try:
        yield
    finally:
        plugins.unregister(module)


def _returns(hook: str) -> Any:
    return typing.get_type_hints(getattr(hookspecs, hook))["return"]


def _registration_hooks() -> list[str]:
    return [n for n in _hook_names() if not inspect.signature(getattr(hookspecs, n)).parameters]


def test_the_examples_import_the_core_only_through_the_sdk() -> None:
    for name in _hook_names():
        for line in _example(name).splitlines():
            if re.match(r"(from|import) twofold\b", line):
                assert line.startswith(("from twofold.sdk import", "from twofold import sdk")), (
                    f"{name}: the example imports {line!r}"
                )


@pytest.mark.parametrize("hook", _registration_hooks())
def test_a_registration_hooks_example_returns_what_the_hook_declares(app: Flask, hook: str) -> None:
    module = _load_example(hook)
    name = _plugin_name(module, hook)
    with _registered(app, module, name):
        (result,) = [r for r in app.extensions["twofold.plugins"].results(hook) if r[0] == name]
    _plugin, value, error = result
    assert error is None, f"{hook}: the example raised {error!r}"
    declared = _returns(hook)
    if typing.get_origin(declared) is list:
        (item_type,) = typing.get_args(declared)
        assert isinstance(value, list) and value, f"{hook}: the example returns no {item_type.__name__}"
        assert all(isinstance(item, item_type) for item in value), f"{hook}: {value!r}"
    else:
        assert isinstance(value, declared), f"{hook}: {value!r} is not a {declared.__name__}"


def test_the_tenant_created_example_runs_at_signup(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    module = _load_example("twofold_tenant_created")
    with _registered(app, module, "docs-twofold_tenant_created"), caplog.at_level(logging.INFO):
        tenant = signup(app, "acme")
    assert f"helpdesk: new tenant {tenant.tenant_id}" in caplog.text


def test_the_pack_enabled_example_seeds_once(app: Flask) -> None:
    module = _load_example("twofold_pack_enabled")
    name = _plugin_name(module, "twofold_pack_enabled")
    tenant = signup(app, "acme")
    client = app.test_client()
    with _registered(app, module, name):
        for action in ("enable", "disable", "enable"):
            response = client.post(f"/api/v1/packs/{name}/{action}", headers=tenant.api())
            assert response.status_code == 200, response.get_json()
        faq = client.get("/api/v1/records/faq", headers=tenant.api()).get_json()["data"]
    assert [entry["question"] for entry in faq] == ["How do I reach support?"]


def test_the_blueprints_example_serves_its_page_to_tenants_with_the_pack(app: Flask) -> None:
    module = _load_example("twofold_blueprints")
    name = _plugin_name(module, "twofold_blueprints")
    keys = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "TESTING")
    with_pack = create_app({**{k: app.config[k] for k in keys}, "EXTRA_PLUGINS": [(name, module)]})
    acme, globex = signup(with_pack, "acme"), signup(with_pack, "globex")
    response = with_pack.test_client().post(f"/api/v1/packs/{name}/enable", headers=acme.api())
    assert response.status_code == 200, response.get_json()

    browser = with_pack.test_client()
    login(browser, acme.email)
    page = browser.get("/t/acme/helpdesk/")
    assert page.status_code == 200
    assert "<h1>Helpdesk of Acme Company</h1>" in page.get_data(as_text=True)
    other = with_pack.test_client()
    login(other, globex.email)
    assert other.get("/t/globex/helpdesk/").status_code == 404
