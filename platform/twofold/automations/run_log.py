"""A rule's run log: its latest runs, each with its actions in order."""

from __future__ import annotations

import uuid

from twofold.automations.models import ActionRun, Rule, RuleRun
from twofold.db import db

LIMIT = 200


def recent_runs(rule: Rule) -> tuple[list[RuleRun], dict[uuid.UUID, list[ActionRun]]]:
    """The rule's latest runs, newest first, and each run's action rows by run id."""
    newest_first = RuleRun.started_at.desc()
    query = db.select(RuleRun).where(RuleRun.rule_id == rule.id).order_by(newest_first).limit(LIMIT)
    runs = list(db.session.scalars(query))
    actions: dict[uuid.UUID, list[ActionRun]] = {}
    if runs:
        for row in db.session.scalars(
            db.select(ActionRun).where(ActionRun.run_id.in_([r.id for r in runs])).order_by(ActionRun.index)
        ):
            actions.setdefault(row.run_id, []).append(row)
    return runs, actions


def last_runs(rules: list[Rule]) -> dict[uuid.UUID, RuleRun]:
    """Each rule's latest run, by rule id (a rule that never ran is absent)."""
    last: dict[uuid.UUID, RuleRun] = {}
    if rules:
        query = db.select(RuleRun).where(RuleRun.rule_id.in_([r.id for r in rules]))
        query = query.order_by(RuleRun.started_at)
        for run in db.session.scalars(query):
            last[run.rule_id] = run
    return last
