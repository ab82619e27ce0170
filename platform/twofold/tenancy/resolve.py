"""How a web request finds its tenant: subdomain, then the ``/t/<slug>/`` path prefix.

(API requests find theirs from the token; see :mod:`twofold.api`.) A signed-in user who is
not a member of the tenant gets a 404, the same answer as for a tenant that does not
exist, so slugs cannot be probed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, g, redirect, request, url_for
from flask_login import current_user

from twofold.auth.permissions import Actor, enter_actor
from twofold.auth.service import membership_of
from twofold.db import db
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import enter_tenant


class TenantSubdomainMiddleware:
    """Serve ``acme.example.com/x`` as ``/t/acme/x`` when a base domain is configured.

    Paths of the app's own non-tenant routes (sign-in, the API, static files…) are served
    as they are on every host.
    """

    def __init__(self, app: Flask, base_domain: str) -> None:
        self.wsgi_app = app.wsgi_app
        self.suffix = "." + base_domain.lower().lstrip(".")
        prefixes = {"/t/"}
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/t/") and rule.rule != "/":
                prefixes.add(rule.rule.split("<", 1)[0])
        self.neutral = tuple(sorted(prefixes))

    def __call__(self, environ: dict, start_response: Any) -> Any:
        host = (environ.get("HTTP_HOST") or "").split(":")[0].lower()
        path = environ.get("PATH_INFO") or "/"
        if host.endswith(self.suffix) and not path.startswith(self.neutral):
            slug = host[: -len(self.suffix)]
            if slug and "." not in slug and slug != "www":
                environ["PATH_INFO"] = f"/t/{slug}{path}"
        return self.wsgi_app(environ, start_response)


def tenant_blueprint(name: str, import_name: str, *, pack: str | None = None, **kwargs: Any) -> Blueprint:
    """A blueprint whose routes live under ``/t/<tenant>/`` and run in that tenant's scope.

    With ``pack``, its routes answer 404 to tenants that have not enabled that pack.
    """
    prefix = kwargs.pop("url_prefix", "")
    bp = Blueprint(name, import_name, url_prefix=f"/t/<tenant>{prefix}", **kwargs)

    @bp.url_value_preprocessor
    def _pull_slug(endpoint: str | None, values: dict | None) -> None:
        g.tenant_slug = (values or {}).pop("tenant", None)

    @bp.url_defaults
    def _add_slug(endpoint: str, values: dict) -> None:
        if "tenant" not in values and getattr(g, "tenant", None) is not None:
            values["tenant"] = g.tenant.slug

    @bp.before_request
    def _enter_tenant() -> Any:
        tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == g.tenant_slug))
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        if tenant is None:
            abort(404)
        g.tenant_token = enter_tenant(tenant.id)
        membership = membership_of(current_user.id)
        if membership is None:
            abort(404)
        # Only now: the error page of a non-member must not show the company's name.
        g.tenant = tenant
        g.membership = membership
        g.actor_token = enter_actor(Actor(current_user.id, membership.role, via="web"))
        if pack is not None:
            from twofold.packs.service import enabled_packs

            if pack not in enabled_packs():
                abort(404)
        return None

    return bp
