"""Packs' rule templates become the tenant's rules when the pack is enabled."""

from __future__ import annotations

from typing import Any

from twofold.automations.meta import RuleTemplate
from twofold.automations.models import Rule
from twofold.db import db
from twofold.plugins import plugins


def trigger_of(template: RuleTemplate) -> dict[str, Any]:
    """A template's trigger text: an event name, ``no_activity:<minutes>`` or ``schedule:<minutes>``."""
    kind, _, minutes = template.trigger.partition(":")
    if kind == "no_activity":
        return {"type": "no_activity", "minutes": int(minutes or 0)}
    if kind == "schedule":
        return {"type": "schedule", "every_minutes": int(minutes or 60)}
    return {"type": "event", "event": template.trigger, "filters": {}}


def seed_rules(pack: str) -> int:
    """Create (enabled) a rule per template of ``pack`` that has none yet; idempotent by key."""
    contributions = [c for c in plugins().collect("twofold_rule_templates", [pack]) if c.plugin == pack]
    existing = set(db.session.scalars(db.select(Rule.template_key).where(Rule.pack == pack)))
    created = 0
    for contribution in contributions:
        template: RuleTemplate = contribution.value
        if template.key in existing:
            continue
        db.session.add(Rule(
            name=template.name, enabled=True, entity_type=template.entity_type,
            trigger=trigger_of(template), conditions=[dict(c) for c in template.conditions],
            actions=[dict(a) for a in template.actions], template_key=template.key, pack=pack,
            state={},
        ))
        existing.add(template.key)
        created += 1
    if created:
        db.session.flush()
    return created
