"""Rule templates switched on with the pack (the stall and approval rules join them later)."""

from __future__ import annotations

from twofold.sdk import RuleTemplate

BOT_HANDOFF_RULE = "b2b.bot_inquiry_to_manager"

RULE_TEMPLATES = (
    # The bot hands a finished inquiry over: a manager owns the deal at once and has a call
    # to make while the client still remembers writing.
    RuleTemplate(
        key=BOT_HANDOFF_RULE,
        name="An inquiry from the bot goes to a manager",
        trigger="conversation.completed",
        entity_type="deal",
        actions=(
            {"type": "assign_owner", "params": {"strategy": "least_loaded"}},
            {"type": "create_task", "params": {"title": "Call back about: {name}", "due_in_minutes": 60}},
        ),
    ),
)
