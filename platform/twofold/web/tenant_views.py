"""The tenant's home page."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from twofold.tenancy.resolve import tenant_blueprint

bp = tenant_blueprint("tenant", __name__)


@bp.get("/")
def home() -> Any:
    return render_template("tenancy/home.html", tenant=g.tenant)
