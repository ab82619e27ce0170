"""Server-rendered pages (htmx for partial updates)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from twofold.web import auth_views, settings_views, tenant_views

    app.register_blueprint(auth_views.bp)
    app.register_blueprint(tenant_views.bp)
    app.register_blueprint(settings_views.bp)
