"""The application factory: configuration, then a plain list of ``init_app`` calls."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.engine import Engine

from twofold import config as config_module
from twofold import jobs, plugins, redis_conn
from twofold.auth import throttle
from twofold.auth.permissions import enter_actor
from twofold.events import outbox
from twofold.extensions import csrf, db, htmx, login_manager, migrate
from twofold.tenancy import scope

REPO_ROOT = Path(__file__).resolve().parents[2]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("TWOFOLD_INSTANCE", str(REPO_ROOT / "instance")),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.from_mapping(config_module.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    config_module.harden(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    _init_database(app)
    _init_redis(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    throttle.init_app(app)
    app.extensions["twofold.plugins"] = plugins.build_manager(app)
    scope.install()
    jobs.install()
    outbox.install()
    from twofold.automations import engine as automation_engine
    from twofold.channels import completion

    # The bot's records first, so that a rule on the same event finds them.
    app.extensions.setdefault("twofold.event_subscribers", []).append(completion.on_event)
    app.extensions["twofold.event_subscribers"].append(automation_engine.on_event)

    _register_blueprints(app)
    _register_plugin_blueprints(app)
    _register_request_hooks(app)
    from twofold import cli, errors

    errors.register(app)
    cli.register(app)

    if app.config.get("BASE_DOMAIN"):
        from twofold.tenancy.resolve import TenantSubdomainMiddleware

        app.wsgi_app = TenantSubdomainMiddleware(app, app.config["BASE_DOMAIN"])  # type: ignore[method-assign]
    # Outermost, so every layer inside sees the client's real address and host.
    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _migrations_dir() -> str:
    # A source checkout (editable install) keeps them at the repository's root; an image
    # with a regular install runs from a folder that holds them.
    candidates = (os.environ.get("TWOFOLD_MIGRATIONS"), REPO_ROOT / "migrations", Path.cwd() / "migrations")
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return str(candidate)
    return str(REPO_ROOT / "migrations")


def _init_database(app: Flask) -> None:
    import twofold.models  # noqa: F401  (every table in the metadata)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
        options.setdefault("pool_pre_ping", True)
    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir(), render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the web and the worker read while the other writes; foreign keys are
        # off by default in SQLite and the composite keys are a tenancy wall.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: otherwise
        # a SAVEPOINT opens the transaction and releasing it commits everything.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        from twofold.db import begin_statement

        connection.exec_driver_sql(begin_statement())


def _init_redis(app: Flask) -> None:
    app.extensions["twofold.redis"] = redis_conn.connect(app)


def _register_blueprints(app: Flask) -> None:
    from twofold import api, health, web
    from twofold.channels import hook_views, widget_views
    from twofold.integrations import dispatch, inbound_views

    app.register_blueprint(health.bp)
    api.register(app)
    web.register(app)
    inbound_views.register(app)
    hook_views.register(app)
    widget_views.register(app)
    dispatch.install(app)


def _register_plugin_blueprints(app: Flask) -> None:
    # A plugin whose pages fail to load is left out; the app and other packs still start.
    registry = app.extensions["twofold.plugins"]
    for plugin_name, value, error in registry.results("twofold_blueprints"):
        if error is not None:
            continue
        for blueprint in value or ():
            app.register_blueprint(blueprint)
            app.logger.debug("plugin %s registered blueprint %s", plugin_name, blueprint.name)


def _register_request_hooks(app: Flask) -> None:
    from twofold.auth import service

    login_manager.login_view = "auth.login"
    login_manager.user_loader(service.load_session_user)

    @app.teardown_request
    def _leave_tenant(_exc: BaseException | None) -> None:
        # Gunicorn reuses threads: the next request must not inherit this tenant.
        if g.pop("tenant_token", None) is not None:
            scope.enter_tenant(None)
        if g.pop("actor_token", None) is not None:
            enter_actor(None)

    @app.context_processor
    def _layout_context() -> dict[str, Any]:
        return {"current_tenant": g.get("tenant"), "current_membership": g.get("membership")}
