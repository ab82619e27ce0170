"""Pipelines and their stages with entry requirements (read-only), with links to boards."""

from __future__ import annotations

from typing import Any

from flask import render_template

from twofold.entities.meta import EntityType
from twofold.packs import registry
from twofold.pipelines import service as pipelines
from twofold.pipelines.models import Stage
from twofold.tenancy.resolve import tenant_blueprint

bp = tenant_blueprint("pipelines", __name__, url_prefix="/pipelines")


def requirement_texts(etype: EntityType, stage: Stage) -> list[str]:
    """What a record needs to enter the stage, as people say it."""
    req = stage.requirements or {}
    out = []
    for name in req.get("fields", []):
        f = etype.field(name)
        out.append(f"{f.display_label if f else name} filled in")
    for rule in req.get("relations", []):
        where = "".join(f", {k} {v}" for k, v in (rule.get("where") or {}).items())
        out.append(rule.get("message") or f"a related {rule['role'].replace('_', ' ')}{where}")
    if req.get("reason"):
        out.append("a reason")
    return out


@bp.get("/")
def settings() -> Any:
    types = registry.current().entity_types
    rows = []
    for p in pipelines.all_pipelines():
        etype = types[p.entity_type]
        rows.append((p, etype, [(s, requirement_texts(etype, s)) for s in pipelines.stages(p)]))
    return render_template("settings/pipelines.html", rows=rows)
