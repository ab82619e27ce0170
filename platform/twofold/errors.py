"""Error pages and JSON errors: the API always answers JSON, the web answers HTML."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from twofold.api.errors import api_error, validation_error
from twofold.auth.permissions import PermissionDenied
from twofold.auth.service import NotFound
from twofold.auth.tokens import TokenNotFound
from twofold.db import db
from twofold.exceptions import Conflict
from twofold.exceptions import NotFound as BaseNotFound
from twofold.plugins import PluginFailed

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/hooks/")


def register(app: Flask) -> None:
    @app.errorhandler(ValidationError)
    def _invalid(exc: ValidationError) -> Any:
        db.session.rollback()
        if _wants_json():
            return validation_error(exc.messages)
        return render_template("errors/error.html", code=422, message=exc.messages), 422

    @app.errorhandler(PermissionDenied)
    def _denied(exc: PermissionDenied) -> Any:
        db.session.rollback()
        if _wants_json():
            return api_error(403, "forbidden", str(exc))
        return render_template("errors/error.html", code=403, message=str(exc)), 403

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> Any:
        db.session.rollback()
        if _wants_json():
            return api_error(409, "conflict", exc.message, **exc.details)
        return render_template("errors/error.html", code=409, message=exc.message), 409

    @app.errorhandler(PluginFailed)
    def _plugin_failed(exc: PluginFailed) -> Any:
        db.session.rollback()
        # The plugin's traceback was logged where it raised; this line ties it to the request.
        log.error("plugin '%s' failed on %s %s: %s", exc.plugin, request.method, request.path, exc)
        message = f"The '{exc.plugin}' pack failed; the error is logged. Other packs are not affected."
        if _wants_json():
            return api_error(500, "plugin_failed", message, plugin=exc.plugin, hook=exc.hook)
        return render_template("errors/error.html", code=500, message=message), 500

    @app.errorhandler(NotFound)
    @app.errorhandler(BaseNotFound)
    @app.errorhandler(TokenNotFound)
    def _missing(exc: Exception) -> Any:
        db.session.rollback()
        if _wants_json():
            return api_error(404, "not_found", "Not found.")
        return render_template("errors/error.html", code=404, message="Not found."), 404

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if _wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            return api_error(exc.code or 500, code, exc.description or exc.name)
        return render_template("errors/error.html", code=exc.code, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> Any:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return api_error(500, "internal_error", "Something went wrong on our side; it is logged.")
        page = render_template("errors/error.html", code=500, message="Something went wrong on our side.")
        return page, 500
