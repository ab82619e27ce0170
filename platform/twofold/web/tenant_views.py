"""The tenant's home page: its record types and boards, and what to do next."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from twofold.entities import service as records
from twofold.packs import registry
from twofold.pipelines import service as pipelines
from twofold.plugins import PluginFailed
from twofold.tenancy.resolve import tenant_blueprint

bp = tenant_blueprint("tenant", __name__)


@bp.get("/")
def home() -> Any:
    try:
        types = list(registry.current().entity_types.values())
        boards = pipelines.all_pipelines()
    except PluginFailed:  # the layout names the failing pack; the home page still opens
        types, boards = [], []
    counts = {t.name: records.count(t.name) for t in types}
    return render_template("tenancy/home.html", tenant=g.tenant, types=types, counts=counts, boards=boards)
