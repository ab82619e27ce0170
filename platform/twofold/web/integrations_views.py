"""Settings → Integrations: webhooks, inbound forms and hooks, connectors (admins and owners).

Thin views over the services the API uses (:mod:`twofold.integrations.subscriptions`,
:mod:`~twofold.integrations.endpoints`, :mod:`~twofold.integrations.connectors`): the same
validation, the same ``integrations.manage`` permission checked inside each service, and
field-level errors beside their inputs. A secret (a webhook's signing secret, an inbound
hook's secret) is in the answer to its creation only; connector secrets are never sent back.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from twofold.auth.permissions import require
from twofold.db import db
from twofold.extensions import htmx
from twofold.integrations import connectors, endpoints, subscriptions
from twofold.packs import registry
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web.forms import attempt

bp = tenant_blueprint("integrations", __name__, url_prefix="/settings/integrations")

PERMISSION = "integrations.manage"


def _base_url() -> str:
    return request.host_url


def _tenant_slug() -> str:
    return g.tenant.slug


def _types() -> dict[str, Any]:
    return registry.current().entity_types


# --- webhooks ---------------------------------------------------------------------------


def _webhooks_page(form: Any, errors: dict[str, list[str]], new: Any = None) -> str:
    return render_template(
        "settings/integrations/webhooks.html", subs=subscriptions.all_subscriptions(), types=_types(),
        event_kinds=subscriptions.EVENT_KINDS, form=form, errors=errors, new=new,
    )


@bp.get("/")
def index() -> Any:
    require(PERMISSION)
    return redirect(url_for(".webhooks"))


@bp.get("/webhooks")
def webhooks() -> Any:
    require(PERMISSION)
    return _webhooks_page({}, {})


@bp.post("/webhooks")
def create_webhook() -> Any:
    require(PERMISSION)
    form = request.form
    data: dict[str, Any] = {
        "description": form.get("description", "").strip(),
        "event_kinds": form.getlist("event_kinds"), "entity_types": form.getlist("entity_types"),
    }
    if form.get("url", "").strip():  # blank: "required" speaks, not "not a valid URL"
        data["url"] = form["url"].strip()
    sub, errors = attempt(lambda: subscriptions.create(data))
    if sub is None:
        return _webhooks_page(form, errors), 422
    secret = sub.secret
    db.session.commit()
    # The signing secret is in this answer only (as an API token is on its page).
    return _webhooks_page({}, {}, new={"sub": sub, "secret": secret})


@bp.get("/webhooks/<uuid:subscription_id>")
def webhook(subscription_id: uuid.UUID) -> Any:
    sub = subscriptions.get(subscription_id)
    return render_template(
        "settings/integrations/deliveries.html", sub=sub, deliveries=subscriptions.deliveries(sub.id)
    )


@bp.post("/webhooks/<uuid:subscription_id>/enable")
def enable_webhook(subscription_id: uuid.UUID) -> Any:
    sub = subscriptions.set_enabled(subscription_id, True)
    db.session.commit()
    flash(f"Webhook to {sub.url} enabled; its failure count starts again at 0.")
    return redirect(url_for(".webhooks"))


@bp.post("/webhooks/<uuid:subscription_id>/disable")
def disable_webhook(subscription_id: uuid.UUID) -> Any:
    sub = subscriptions.set_enabled(subscription_id, False)
    db.session.commit()
    flash(f"Webhook to {sub.url} disabled. Nothing is sent to it until you enable it again.")
    return redirect(url_for(".webhooks"))


@bp.post("/webhooks/<uuid:subscription_id>/delete")
def delete_webhook(subscription_id: uuid.UUID) -> Any:
    subscriptions.delete(subscription_id)
    db.session.commit()
    flash("Webhook deleted, with its delivery log.")
    return redirect(url_for(".webhooks"))


@bp.post("/webhooks/<uuid:subscription_id>/ping")
def ping_webhook(subscription_id: uuid.UUID) -> Any:
    subscriptions.ping(subscription_id)
    db.session.commit()  # the delivery job leaves after the commit
    flash("Test message queued. Its delivery shows in the log below in a moment.")
    return redirect(url_for(".webhook", subscription_id=subscription_id))


# --- inbound forms and hooks ------------------------------------------------------------


def _field_map(raw: str) -> tuple[dict[str, str], list[str]]:
    """``name = field`` a line (blank lines skipped) -> the endpoint's field map."""
    out: dict[str, str] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, field = line.partition("=")
        if not sep or not name.strip() or not field.strip():
            return out, [f"Line {number}: write “incoming name = record field”, e.g. “name = first_name”."]
        out[name.strip()] = field.strip()
    return out, []


def _inbound_page(form: Any, errors: dict[str, list[str]], created: dict[str, Any] | None = None) -> str:
    return render_template(
        "settings/integrations/inbound.html", endpoints=endpoints.all_endpoints(), types=_types(),
        form=form, errors=errors, created=created,
    )


@bp.get("/inbound")
def inbound() -> Any:
    require(PERMISSION)
    return _inbound_page({"kind": "form"}, {})


@bp.post("/inbound")
def create_inbound() -> Any:
    require(PERMISSION)
    form = request.form
    field_map, map_errors = _field_map(form.get("field_map", ""))
    data: dict[str, Any] = {"kind": form.get("kind", ""), "field_map": field_map,
                            "id_field": form.get("id_field", "").strip() or None}
    if form.get("entity_type"):
        data["entity_type"] = form["entity_type"]
    if map_errors:
        return _inbound_page(form, {"field_map": map_errors}), 422
    endpoint, errors = attempt(lambda: endpoints.create(data))
    if endpoint is None:
        return _inbound_page(form, errors), 422
    # The hook's secret is in this answer only.
    created = endpoints.describe(endpoint, _tenant_slug(), _base_url(), with_secret=True)
    db.session.commit()
    return _inbound_page({"kind": "form"}, {}, created=created)


@bp.get("/inbound/<uuid:endpoint_id>")
def inbound_endpoint(endpoint_id: uuid.UUID) -> Any:
    endpoint = endpoints.get(endpoint_id)
    return render_template(
        "settings/integrations/inbound_endpoint.html", endpoint=endpoint,
        info=endpoints.describe(endpoint, _tenant_slug(), _base_url()),
    )


def _set_inbound(endpoint_id: uuid.UUID, enabled: bool) -> Any:
    endpoint = endpoints.set_enabled(endpoint_id, enabled)
    db.session.commit()
    what = "Form" if endpoint.kind == "form" else "Hook"
    flash(f"{what} {'enabled' if enabled else 'disabled: it answers 404 until you enable it again'}.")
    if request.form.get("back") == "endpoint":
        return redirect(url_for(".inbound_endpoint", endpoint_id=endpoint.id))
    return redirect(url_for(".inbound"))


@bp.post("/inbound/<uuid:endpoint_id>/enable")
def enable_inbound(endpoint_id: uuid.UUID) -> Any:
    return _set_inbound(endpoint_id, True)


@bp.post("/inbound/<uuid:endpoint_id>/disable")
def disable_inbound(endpoint_id: uuid.UUID) -> Any:
    return _set_inbound(endpoint_id, False)


# --- connectors -------------------------------------------------------------------------


@bp.get("/connectors")
def connectors_list() -> Any:
    require(PERMISSION)
    found = [connectors.to_json(name) for name in sorted(connectors.available())]
    return render_template("settings/integrations/connectors.html", connectors=found)


def _connector_page(name: str, form: Any, errors: dict[str, list[str]], result: Any = None) -> str:
    return render_template(
        "settings/integrations/connector.html", connector=connectors.to_json(name),
        fields=connectors.form_fields(name), form=form, errors=errors, result=result,
    )


@bp.get("/connectors/<name>")
def connector(name: str) -> Any:
    state = connectors.to_json(name)
    return _connector_page(name, state["settings"], {})


@bp.post("/connectors/<name>")
def save_connector(name: str) -> Any:
    data: dict[str, Any] = {}
    for field in connectors.form_fields(name):
        raw = request.form.get(field["name"], "")
        if field["input"] == "checkbox":
            data[field["name"]] = raw == "on"
        elif raw.strip():  # a blank secret keeps the stored one; a blank field is left out
            data[field["name"]] = raw if field["secret"] else raw.strip()
    _row, errors = attempt(lambda: connectors.save(name, data))
    if errors:
        form = {k: v for k, v in request.form.items() if k not in connectors.spec(name).secret_fields}
        return _connector_page(name, form, errors), 422
    db.session.commit()
    flash("Settings saved.")
    return redirect(url_for(".connector", name=name))


@bp.post("/connectors/<name>/test")
def test_connector(name: str) -> Any:
    result, errors = attempt(lambda: connectors.test_connection(name))
    if result is None:
        result = {"ok": False, "message": " ".join(m for ms in errors.values() for m in ms)}
    if htmx:
        return render_template("settings/integrations/_test_result.html", result=result)
    state = connectors.to_json(name)
    return _connector_page(name, state["settings"], {}, result=result)


@bp.post("/connectors/<name>/sync/<job>")
def run_sync(name: str, job: str) -> Any:
    connectors.run_sync(name, job)
    db.session.commit()  # the job leaves after the commit
    flash(f"“{job}” queued; it runs in the background with the saved settings.")
    return redirect(url_for(".connector", name=name))
