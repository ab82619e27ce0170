"""Settings: the installed packs, enabled or disabled for this company (admins only)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from twofold.auth.permissions import require
from twofold.db import db
from twofold.packs import service as packs
from twofold.tenancy.resolve import tenant_blueprint

bp = tenant_blueprint("packs", __name__, url_prefix="/settings/packs")


@bp.get("/")
def settings() -> Any:
    require("packs.manage")
    return render_template("settings/packs.html", packs=packs.states())


@bp.post("/<name>/enable")
def enable(name: str) -> Any:
    state = packs.enable(name)
    db.session.commit()
    flash(f"{state.info.label} is on. Its record types, pipelines and pages are in the menu.")
    return redirect(url_for(".settings"))


@bp.post("/<name>/disable")
def disable(name: str) -> Any:
    state = packs.disable(name)
    db.session.commit()
    flash(f"{state.info.label} is off. Its records are kept; enable it again to see them.")
    return redirect(url_for(".settings"))
