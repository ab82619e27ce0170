"""Server-rendered pages (htmx for partial updates)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from twofold.web import (
        api_docs_views,
        auth_views,
        automations_views,
        board_views,
        channels_views,
        fields_views,
        filters,
        inbox_views,
        integrations_views,
        nav,
        packs_views,
        pipelines_views,
        record_form_views,  # noqa: F401  (routes on records_views.bp)
        record_page_views,  # noqa: F401  (routes on records_views.bp)
        records_views,
        settings_views,
        tenant_views,
    )

    app.register_blueprint(auth_views.bp)
    app.register_blueprint(tenant_views.bp)
    app.register_blueprint(settings_views.bp)
    app.register_blueprint(records_views.bp)
    app.register_blueprint(board_views.bp)
    app.register_blueprint(packs_views.bp)
    app.register_blueprint(fields_views.bp)
    app.register_blueprint(pipelines_views.bp)
    app.register_blueprint(api_docs_views.bp)
    app.register_blueprint(automations_views.bp)
    app.register_blueprint(integrations_views.bp)
    app.register_blueprint(channels_views.bp)
    app.register_blueprint(inbox_views.bp)
    app.context_processor(nav.context)
    filters.register(app)
