"""Automation rules, their run log, and the tenant's failed jobs in the API (admins only).

The rules and failed-jobs services (:mod:`twofold.automations.rules`,
:mod:`twofold.automations.failed_jobs`) validate and check permissions themselves; these
handlers check first too (a body is not read for someone who may not send it), turn the
results into JSON and commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from twofold.api import bp
from twofold.api.helpers import json_body
from twofold.auth.permissions import require
from twofold.automations import failed_jobs as failed
from twofold.automations import rules, run_log
from twofold.db import db


@bp.get("/automations/rules")
def list_rules() -> Any:
    require("automations.manage")
    return {"data": [rules.rule_json(r) for r in rules.list_rules()]}


@bp.post("/automations/rules")
def create_rule() -> Any:
    require("automations.manage")
    rule = rules.create_rule(json_body())
    db.session.commit()
    return rules.rule_json(rule), 201


@bp.get("/automations/rules/<uuid:rule_id>")
def get_rule(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    return rules.rule_json(rules.get_rule(rule_id))


@bp.patch("/automations/rules/<uuid:rule_id>")
def update_rule(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    rule = rules.update_rule(rules.get_rule(rule_id), json_body())
    db.session.commit()
    return rules.rule_json(rule)


@bp.delete("/automations/rules/<uuid:rule_id>")
def delete_rule(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    rules.delete_rule(rules.get_rule(rule_id))
    db.session.commit()
    return "", 204


@bp.get("/automations/rules/<uuid:rule_id>/runs")
def rule_runs(rule_id: uuid.UUID) -> Any:
    require("automations.manage")
    runs, actions = run_log.recent_runs(rules.get_rule(rule_id))
    return {"data": [
        {
            "id": str(run.id), "trigger_key": run.trigger_key, "status": run.status,
            "event_id": str(run.event_id) if run.event_id else None,
            "record_id": str(run.record_id) if run.record_id else None,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "actions": [
                {"index": a.index, "type": a.type, "status": a.status, "result": a.result, "error": a.error}
                for a in actions.get(run.id, [])
            ],
        }
        for run in runs
    ]}


@bp.get("/automations/failed-jobs")
def failed_jobs() -> Any:
    require("automations.manage")
    return {"data": [
        {
            "id": job.id, "queue": job.queue, "func": job.func,
            "failed_at": job.failed_at.isoformat() if job.failed_at else None, "error": job.error,
        }
        for job in failed.own_failed_jobs()
    ]}


@bp.post("/automations/failed-jobs/<job_id>/retry")
def retry_failed_job(job_id: str) -> Any:
    require("automations.manage")
    job = failed.retry(job_id)
    return {"id": job.id, "queue": job.queue, "status": "queued"}
