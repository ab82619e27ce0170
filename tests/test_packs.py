"""Packs per tenant: enabling and disabling (API, CLI, manifests), what a disabled pack
hides and keeps, hooks acting only for the tenants that enabled their pack, a broken
plugin contained to its own tenants, and safe mode.

The test packs live in ``tests/plugins/``; they are registered on the app for one test
and removed after it, as installing and uninstalling a plugin would.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker

from tests.plugins.widgets import GadgetsPack, WidgetsPack
from tests.support.factories import TenantHandle, invite_and_join, signup
from twofold import jobs, manifests
from twofold.app import create_app
from twofold.auth import tokens
from twofold.auth.models import SecurityEvent
from twofold.auth.permissions import Actor, acting_as
from twofold.automations import actions
from twofold.db import db
from twofold.packs import registry
from twofold.pipelines.models import Pipeline, Stage
from twofold.tenancy.scope import tenant_scope

Install = Callable[..., WidgetsPack]


@pytest.fixture
def install(app: Flask) -> Iterator[Install]:
    """Install a test pack on the app (replacing one of the same name); removed afterwards."""
    plugins = app.extensions["twofold.plugins"]
    names: set[str] = set()

    def _install(plugin: Any, name: str = "widgets") -> Any:
        old = plugins.manager.get_plugin(name)
        if old is not None:
            plugins.unregister(old)
        plugins.register(plugin, name=name)
        names.add(name)
        return plugin

    try:
        yield _install
    finally:
        for name in names:
            leftover = plugins.manager.get_plugin(name)
            if leftover is not None:
                plugins.unregister(leftover)


def _packs(client: FlaskClient, tenant: TenantHandle) -> dict[str, bool]:
    response = client.get("/api/v1/packs", headers=tenant.api())
    assert response.status_code == 200, response.get_json()
    return {p["name"]: p["enabled"] for p in response.get_json()["data"]}


def _post(client: FlaskClient, tenant: TenantHandle, path: str, body: dict | None = None) -> Any:
    return client.post(path, json=body or {}, headers=tenant.api())


def _get(client: FlaskClient, tenant: TenantHandle, path: str) -> Any:
    return client.get(path, headers=tenant.api())


def _type_names(client: FlaskClient, tenant: TenantHandle) -> set[str]:
    return {t["name"] for t in _get(client, tenant, "/api/v1/entity-types").get_json()["data"]}


def _openapi_paths(client: FlaskClient, tenant: TenantHandle) -> set[str]:
    return set(_get(client, tenant, "/api/v1/openapi.json").get_json()["paths"])


def _pipeline_keys(client: FlaskClient, tenant: TenantHandle) -> list[str]:
    return sorted(p["key"] for p in _get(client, tenant, "/api/v1/pipelines").get_json()["data"])


def _count_rows(app: Flask, tenant: TenantHandle, model: Any, *where: Any) -> int:
    with app.app_context(), tenant_scope(tenant.tenant_id):
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


# --- enabling and disabling ---------------------------------------------------------------


def test_an_admin_enables_and_disables_a_pack_through_the_api(app: Flask) -> None:
    acme = signup(app, "acme")
    client = app.test_client()
    assert _packs(client, acme)["example"] is False

    enabled = _post(client, acme, "/api/v1/packs/example/enable")
    assert (enabled.status_code, enabled.get_json()) == (200, {"name": "example", "enabled": True})
    assert _packs(client, acme)["example"] is True

    disabled = _post(client, acme, "/api/v1/packs/example/disable")
    assert (disabled.status_code, disabled.get_json()) == (200, {"name": "example", "enabled": False})
    assert _packs(client, acme)["example"] is False

    missing = _post(client, acme, "/api/v1/packs/no-such-pack/enable")
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (404, "not_found")

    with app.app_context(), tenant_scope(acme.tenant_id):
        kinds = db.session.scalars(
            db.select(SecurityEvent.kind).where(SecurityEvent.kind.like("pack.%")).order_by(SecurityEvent.at)
        ).all()
    assert kinds == ["pack.enabled", "pack.disabled"]


def test_an_agent_may_not_enable_a_pack(app: Flask) -> None:
    acme = signup(app, "acme")
    agent_id = invite_and_join(app, acme, "agent@acme.example.com", "agent")
    with app.app_context(), tenant_scope(acme.tenant_id), acting_as(Actor(agent_id, "agent")):
        _row, raw = tokens.issue("agent's token")
        db.session.commit()
    client = app.test_client()
    refused = client.post("/api/v1/packs/example/enable", headers={"Authorization": f"Bearer {raw}"})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "forbidden")
    assert _packs(client, acme)["example"] is False


def test_enabling_again_seeds_nothing_twice(app: Flask, install: Install) -> None:
    widgets = install(WidgetsPack())
    acme = signup(app, "acme")
    client = app.test_client()
    for path in ("enable", "enable", "disable", "enable"):
        for pack in ("example", "widgets"):
            assert _post(client, acme, f"/api/v1/packs/{pack}/{path}").status_code == 200

    assert _pipeline_keys(client, acme) == ["assembly", "support"]
    assert _count_rows(app, acme, Pipeline) == 2
    assert _count_rows(app, acme, Stage) == 4 + 2
    # The pack's own seeding hook ran on each real enabling (not on the no-op one) and
    # looked before it wrote: one sample widget.
    assert widgets.enabled_for == [acme.tenant_id, acme.tenant_id]
    sample = _get(client, acme, "/api/v1/records/widget").get_json()["data"]
    assert [(w["name"], w["colour"]) for w in sample] == [("Sample widget", "blue")]


def test_disabling_hides_the_packs_data_and_enabling_brings_it_back(app: Flask) -> None:
    acme = signup(app, "acme")
    client = app.test_client()
    assert _post(client, acme, "/api/v1/packs/example/enable").status_code == 200
    ticket = _post(client, acme, "/api/v1/records/ticket", {"subject": "Printer on fire"}).get_json()
    moved = _post(client, acme, f"/api/v1/records/ticket/{ticket['id']}/move", {"stage": "working"})
    assert moved.status_code == 200
    assert "ticket" in _type_names(client, acme)
    assert "/records/ticket" in _openapi_paths(client, acme)

    assert _post(client, acme, "/api/v1/packs/example/disable").status_code == 200
    assert _get(client, acme, "/api/v1/records/ticket").status_code == 404
    assert _get(client, acme, f"/api/v1/records/ticket/{ticket['id']}").status_code == 404
    assert _post(client, acme, "/api/v1/records/ticket", {"subject": "Another"}).status_code == 404
    assert _get(client, acme, "/api/v1/metrics/example.open_tickets").status_code == 404
    assert "ticket" not in _type_names(client, acme)
    assert not {p for p in _openapi_paths(client, acme) if "ticket" in p}
    assert _pipeline_keys(client, acme) == []

    assert _post(client, acme, "/api/v1/packs/example/enable").status_code == 200
    back = _get(client, acme, f"/api/v1/records/ticket/{ticket['id']}")
    assert back.status_code == 200
    working = ticket_stage(client, acme, "working")
    assert (back.get_json()["subject"], back.get_json()["stage_id"]) == ("Printer on fire", working)
    history = _get(client, acme, f"/api/v1/records/ticket/{ticket['id']}/history").get_json()["data"]
    assert len(history) == 2  # entered "new", moved to "working": nothing lost, nothing added
    assert _get(client, acme, "/api/v1/metrics/example.open_tickets").get_json()["value"] == 1


def ticket_stage(client: FlaskClient, tenant: TenantHandle, key: str) -> str:
    pipelines = _get(client, tenant, "/api/v1/pipelines").get_json()["data"]
    (support,) = [p for p in pipelines if p["key"] == "support"]
    return next(s["id"] for s in support["stages"] if s["key"] == key)


def test_a_packs_hooks_do_not_act_for_a_tenant_without_it(app: Flask, install: Install) -> None:
    widgets = install(WidgetsPack())
    acme, globex = signup(app, "acme"), signup(app, "globex")
    client = app.test_client()
    for pack in ("widgets", "example"):
        assert _post(client, acme, f"/api/v1/packs/{pack}/enable").status_code == 200
    made = _post(client, acme, "/api/v1/records/widget", {"name": "Gear"})
    assert made.status_code == 201

    assert widgets.enabled_for == [acme.tenant_id]  # enabling for acme ran nothing for globex
    assert {"widget", "ticket"} <= _type_names(client, acme)
    assert not {"widget", "ticket"} & _type_names(client, globex)
    assert not {p for p in _openapi_paths(client, globex) if "widget" in p or "ticket" in p}
    assert _get(client, globex, "/api/v1/records/widget").status_code == 404
    assert _get(client, globex, f"/api/v1/records/widget/{made.get_json()['id']}").status_code == 404
    assert _get(client, globex, "/api/v1/metrics/widgets.count").status_code == 404
    assert _get(client, acme, "/api/v1/metrics/widgets.count").get_json()["value"] == 2  # the sample and Gear
    assert _pipeline_keys(client, globex) == []
    with app.app_context(), tenant_scope(globex.tenant_id), acting_as(Actor(globex.user_id, "owner")):
        assert "widgets.paint" not in registry.current().actions
        assert "Tickets summary" not in [n.label for n in registry.current().navigation]
    with app.app_context(), tenant_scope(acme.tenant_id), acting_as(Actor(acme.user_id, "owner")):
        assert "widgets.paint" in registry.current().actions
        assert "Tickets summary" in [n.label for n in registry.current().navigation]


# --- a plugin that raises -------------------------------------------------------------------


def _plugin_log_lines(caplog: pytest.LogCaptureFixture, plugin: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if f"plugin '{plugin}'" in r.getMessage()]


@pytest.mark.parametrize("broken_hook", ["twofold_entity_types", "twofold_pack"])
def test_a_broken_pack_fails_its_tenants_requests_clearly_and_no_one_elses(
    app: Flask, install: Install, caplog: pytest.LogCaptureFixture, broken_hook: str
) -> None:
    install(WidgetsPack())
    acme, globex = signup(app, "acme"), signup(app, "globex")
    client = app.test_client()
    for pack in ("widgets", "example"):
        assert _post(client, acme, f"/api/v1/packs/{pack}/enable").status_code == 200
    assert _post(client, globex, "/api/v1/packs/example/enable").status_code == 200
    assert _post(client, acme, "/api/v1/records/widget", {"name": "Gear"}).status_code == 201
    assert _post(client, acme, "/api/v1/records/ticket", {"subject": "Jam"}).status_code == 201

    install(WidgetsPack(fail_in=broken_hook))  # a release of the plugin with a bug
    caplog.clear()
    with caplog.at_level(logging.INFO):
        failed = _get(client, acme, "/api/v1/records/widget")
    assert failed.status_code == 500
    error = failed.get_json()["error"]
    assert (error["code"], error["plugin"], error["hook"]) == ("plugin_failed", "widgets", broken_hook)
    assert "'widgets'" in error["message"]
    lines = _plugin_log_lines(caplog, "widgets")
    assert any(f"failed in {broken_hook}" in line for line in lines), lines
    assert any("GET /api/v1/records/widget" in line for line in lines), lines

    # The same tenant's other pack goes on, and so does a tenant without the broken one.
    tickets = _get(client, acme, "/api/v1/records/ticket")
    assert tickets.status_code == 200
    assert [t["subject"] for t in tickets.get_json()["data"]] == ["Jam"]
    assert _get(client, globex, "/api/v1/records/widget").status_code == 404
    assert _post(client, globex, "/api/v1/records/ticket", {"subject": "Ok"}).status_code == 201
    assert "ticket" in _type_names(client, globex)

    install(WidgetsPack())  # the fixed release: the data was never lost
    names = [w["name"] for w in _get(client, acme, "/api/v1/records/widget").get_json()["data"]]
    assert sorted(names) == ["Gear", "Sample widget"]


def test_a_pack_that_claims_a_records_own_key_as_a_field_fails_alone(
    app: Flask, install: Install, caplog: pytest.LogCaptureFixture
) -> None:
    install(WidgetsPack())
    install(GadgetsPack(field="stage"), name="gadgets")
    acme = signup(app, "acme")
    client = app.test_client()
    for pack in ("widgets", "gadgets"):
        assert _post(client, acme, f"/api/v1/packs/{pack}/enable").status_code == 200

    with caplog.at_level(logging.INFO):
        failed = _get(client, acme, "/api/v1/records/gadget")
    assert failed.status_code == 500
    error = failed.get_json()["error"]
    assert (error["code"], error["plugin"]) == ("plugin_failed", "gadgets")
    assert error["hook"] == "twofold_entity_types"
    assert any("reserved field names ['stage']" in line for line in _plugin_log_lines(caplog, "gadgets"))
    assert _get(client, acme, "/api/v1/records/widget").status_code == 200
    assert "gadget" not in _type_names(client, acme)

    install(GadgetsPack(field="size"), name="gadgets")
    created = _post(client, acme, "/api/v1/records/gadget", {"name": "Lamp", "size": "small"})
    assert created.status_code == 201, created.get_json()


def test_a_pack_whose_enable_hook_raises_is_not_enabled(
    app: Flask, install: Install, caplog: pytest.LogCaptureFixture
) -> None:
    install(WidgetsPack(fail_in="twofold_pack_enabled"))
    acme = signup(app, "acme")
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        failed = _post(client, acme, "/api/v1/packs/widgets/enable")
    assert failed.status_code == 500
    error = failed.get_json()["error"]
    assert (error["code"], error["plugin"]) == ("plugin_failed", "widgets")
    assert error["hook"] == "twofold_pack_enabled"
    assert any("failed in twofold_pack_enabled" in line for line in _plugin_log_lines(caplog, "widgets"))
    # All of the enabling was undone: not enabled, no pipeline seeded, nothing in the log.
    assert _packs(client, acme)["widgets"] is False
    assert _pipeline_keys(client, acme) == []
    assert _count_rows(app, acme, SecurityEvent, SecurityEvent.kind == "pack.enabled") == 0
    assert _post(client, acme, "/api/v1/packs/example/enable").status_code == 200  # other packs go on


def test_a_failing_action_fails_its_job_naming_the_plugin(
    app: Flask, install: Install, caplog: pytest.LogCaptureFixture
) -> None:
    install(WidgetsPack(fail_in="paint"))
    acme = signup(app, "acme")
    client = app.test_client()
    for pack in ("widgets", "example"):
        assert _post(client, acme, f"/api/v1/packs/{pack}/enable").status_code == 200
    widget = _post(client, acme, "/api/v1/records/widget", {"name": "Gear", "colour": "blue"}).get_json()
    ticket = _post(client, acme, "/api/v1/records/ticket", {"subject": "Jam"}).get_json()
    with app.app_context(), tenant_scope(acme.tenant_id), acting_as(Actor(acme.user_id, "owner")):
        actions.enqueue_action("widgets.paint", "widget", widget["id"], {"colour": "red"}, retries=0)
        actions.enqueue_action("example.escalate", "ticket", ticket["id"], retries=0)
        db.session.commit()

    with app.app_context(), caplog.at_level(logging.INFO):
        queue = jobs.queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        (failed_id,) = queue.failed_job_registry.get_job_ids()
        exc_string = queue.fetch_job(failed_id).latest_result().exc_string
        assert queue.finished_job_registry.count == 1  # the other pack's action ran
    assert "plugin 'widgets' failed in action widgets.paint: RuntimeError: widgets bug in paint" in exc_string
    assert any("failed in action widgets.paint" in line for line in _plugin_log_lines(caplog, "widgets"))
    assert _get(client, acme, f"/api/v1/records/widget/{widget['id']}").get_json()["colour"] == "blue"
    assert _get(client, acme, f"/api/v1/records/ticket/{ticket['id']}").get_json()["priority"] == "high"


# --- the command line and tenant manifests ---------------------------------------------------


def test_the_cli_lists_enables_and_disables_packs(app: Flask) -> None:
    acme, globex = signup(app, "acme"), signup(app, "globex")
    runner = app.test_cli_runner()

    installed = runner.invoke(args=["packs", "list"])
    assert installed.exit_code == 0, installed.output
    assert "example" in installed.output and "Support tickets" in installed.output

    enabled = runner.invoke(args=["packs", "enable", "--tenant", "acme", "example"])
    assert enabled.exit_code == 0, enabled.output
    assert "acme: pack example enabled" in enabled.output
    client = app.test_client()
    assert _packs(client, acme)["example"] is True
    assert _packs(client, globex)["example"] is False
    assert _pipeline_keys(client, acme) == ["support"]

    listed = runner.invoke(args=["packs", "list", "--tenant", "acme"])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[:2] for line in listed.output.splitlines() if line.startswith("example")] == [
        ["example", "enabled"]
    ]
    again = runner.invoke(args=["packs", "enable", "--tenant", "acme", "example"])
    assert again.exit_code == 0, again.output
    assert _count_rows(app, acme, Pipeline) == 1

    disabled = runner.invoke(args=["packs", "disable", "--tenant", "acme", "example"])
    assert disabled.exit_code == 0, disabled.output
    assert _packs(client, acme)["example"] is False
    with app.app_context(), tenant_scope(acme.tenant_id):
        events = db.session.scalars(db.select(SecurityEvent).where(SecurityEvent.kind.like("pack.%"))).all()
    assert sorted((e.kind, e.user_id, e.detail["pack"]) for e in events) == [
        ("pack.disabled", None, "example"), ("pack.enabled", None, "example"),
    ]

    no_tenant = runner.invoke(args=["packs", "enable", "--tenant", "nobody", "example"])
    assert no_tenant.exit_code != 0 and "no tenant 'nobody'" in no_tenant.output
    no_pack = runner.invoke(args=["packs", "enable", "--tenant", "acme", "nope"])
    assert no_pack.exit_code != 0
    assert "no pack 'nope' is installed" in no_pack.output and "example" in no_pack.output


def test_a_manifest_enables_its_packs_once(app: Flask, tmp_path: Path) -> None:
    manifest = tmp_path / "shop.toml"
    manifest.write_text(
        'slug = "shop"\nname = "Shop"\npacks = ["example", "not-installed"]\n\n'
        '[[users]]\nemail = "owner@shop.example.com"\npassword = "correct horse battery"\nrole = "owner"\n'
    )
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tenants", "apply", str(manifest)])
    assert first.exit_code == 0, first.output
    assert "packs: example, not-installed (not installed)" in first.output
    second = runner.invoke(args=["tenants", "apply", str(manifest)])
    assert second.exit_code == 0, second.output

    with app.app_context():
        (applied,) = manifests.apply_path(manifest)  # and a third time, through the function
        assert applied.packs == ["example", "not-installed (not installed)"]
        from twofold.tenancy.models import Tenant

        tenant_id = db.session.scalar(db.select(Tenant.id).where(Tenant.slug == "shop"))
    shop = TenantHandle("shop", "Shop", tenant_id, uuid.uuid4(), "", "", "")
    assert _count_rows(app, shop, Pipeline, Pipeline.key == "support") == 1
    assert _count_rows(app, shop, SecurityEvent, SecurityEvent.kind == "pack.enabled") == 1


def test_a_manifest_with_a_malformed_pack_list_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "bad.toml"
    manifest.write_text('slug = "bad"\nname = "Bad"\npacks = "example"\n')
    with pytest.raises(manifests.ManifestError, match="'packs' must be a list"):
        manifests.load(manifest)


# --- safe mode ---------------------------------------------------------------------------


def _config_like(app: Flask, **extra: object) -> dict:
    keys = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "TESTING")
    return {**{k: app.config[k] for k in keys}, **extra}


def test_safe_mode_runs_without_plugins_and_loses_no_data(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = signup(app, "acme")
    client = app.test_client()
    assert _post(client, acme, "/api/v1/packs/example/enable").status_code == 200
    ticket = _post(client, acme, "/api/v1/records/ticket", {"subject": "Printer on fire"}).get_json()

    monkeypatch.setenv("TWOFOLD_SAFE_MODE", "1")  # how an operator starts it
    safe = create_app(_config_like(app))
    assert safe.config["SAFE_MODE"] is True
    safe_client = safe.test_client()
    assert "example" not in _packs(safe_client, acme)
    assert _get(safe_client, acme, f"/api/v1/records/ticket/{ticket['id']}").status_code == 404
    assert "ticket" not in _type_names(safe_client, acme)
    assert _get(safe_client, acme, "/api/v1/me").status_code == 200  # the core itself works
    assert safe_client.get("/login").status_code == 200
    listed = safe.test_cli_runner().invoke(args=["packs", "list", "--tenant", "acme"])
    assert (listed.exit_code, listed.output.strip()) == (0, "no packs installed (safe mode)")

    # Back to normal: the pack, still enabled, and its ticket are there.
    assert _packs(client, acme)["example"] is True
    again = _get(client, acme, f"/api/v1/records/ticket/{ticket['id']}")
    assert again.get_json()["subject"] == "Printer on fire"
