"""The managers' inbox: conversations by state, one conversation with its context card.

Thin views: the lists and the context come from :mod:`twofold.channels.inbox`, the actions
(take over, reply, hand back, close) are :mod:`twofold.channels.conversations`, which check
the ``conversations.*`` permissions and the tenant. While a page is open, htmx polls: the
list re-renders itself, the transcript asks only for the messages after the last one shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from twofold.channels import conversations, inbox, stats
from twofold.channels.models import Message
from twofold.db import db, utcnow
from twofold.extensions import htmx
from twofold.packs import registry
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web.forms import attempt

bp = tenant_blueprint("inbox", __name__, url_prefix="/inbox")

TABS = (
    ("bot", "Bot talking"),
    ("waiting", "Waiting for a human"),
    ("human", "With a human"),
    ("closed", "Closed"),
)
DEFAULT_TAB = "waiting"  # what needs a person first
# The figures above the inbox: how the last 30 days of conversations were served.
STATS_PERIOD = timedelta(days=30)


def _tab() -> str:
    state = request.args.get("state") or DEFAULT_TAB
    return state if state in dict(TABS) else DEFAULT_TAB


@bp.get("/")
def index() -> Any:
    state = _tab()
    page = {"tabs": TABS, "state": state, "counts": inbox.counts(), "rows": inbox.listing(state)}
    if htmx:  # the list refreshing itself
        return render_template("inbox/_list.html", **page)
    since = utcnow() - STATS_PERIOD
    return render_template("inbox/index.html", **page, figures=stats.compute(since=since))


def _type_labels() -> dict[str, str]:
    return {name: etype.label for name, etype in registry.current().entity_types.items()}


def _page(conversation_id: uuid.UUID, *, form: Any = None, errors: dict | None = None) -> str:
    conversation = conversations.get(conversation_id)
    messages = conversations.transcript(conversation_id)
    return render_template(
        "inbox/show.html", c=conversation, messages=messages, ctx=inbox.context(conversation, messages),
        labels=_type_labels(), tabs=dict(TABS), form=form or {}, errors=errors or {},
    )


@bp.get("/<uuid:conversation_id>")
def show(conversation_id: uuid.UUID) -> Any:
    return _page(conversation_id)


def _after() -> uuid.UUID | None:
    try:
        return uuid.UUID(request.values.get("after", ""))
    except ValueError:
        return None


def _fragment(conversation_id: uuid.UUID, messages: list[Message], *, oob: bool) -> str:
    conversation = conversations.get(conversation_id)
    return render_template(
        "inbox/_messages.html", c=conversation, messages=messages, oob=oob,
        ctx=inbox.context(conversation, messages), tabs=dict(TABS),
    )


@bp.get("/<uuid:conversation_id>/messages")
def messages(conversation_id: uuid.UUID) -> Any:
    """The messages after ``?after=<id>`` and a poller that asks after the newest of them."""
    new = inbox.messages_after(conversation_id, _after())
    if not new and _after() is not None:
        return "", 204  # nothing new: htmx leaves the page as it is
    return _fragment(conversation_id, new, oob=False)


@bp.post("/<uuid:conversation_id>/reply")
def reply(conversation_id: uuid.UUID) -> Any:
    text = request.form.get("text", "")
    message, errors = attempt(lambda: conversations.reply(conversation_id, text))
    if message is None:
        if htmx:
            conversation = conversations.get(conversation_id)
            return render_template("inbox/_reply.html", c=conversation, form=request.form, errors=errors), 422
        return _page(conversation_id, form=request.form, errors=errors), 422
    db.session.commit()  # the delivery job leaves after the commit
    if htmx:
        # A fresh form, and out of band: the messages the page has not shown yet (the
        # reply, and any the client wrote meanwhile), before a poller that asks after them.
        new = inbox.messages_after(conversation_id, _after())
        conversation = conversations.get(conversation_id)
        return (render_template("inbox/_reply.html", c=conversation, form={}, errors={})
                + _fragment(conversation_id, new, oob=True))
    flash("Reply sent.")
    return redirect(url_for(".show", conversation_id=conversation_id) + "#reply")


# What each state means once an action has put the conversation there.
AFTER_ACTION = {
    "human": "You have the conversation: the bot stays quiet until you hand it back.",
    "bot": "Handed back to the bot: it goes on with its questions when the client writes.",
    "waiting": "The bot has no more questions, so the conversation waits for a manager again.",
    "closed": "Conversation closed. A new message from the client starts a new one.",
}


def _act(conversation_id: uuid.UUID, action: Callable[[uuid.UUID], Any]) -> Any:
    conversation, errors = attempt(lambda: action(conversation_id))
    if conversation is None:
        flash(" ".join(m for ms in errors.values() for m in ms), "error")
    else:
        db.session.commit()
        flash(AFTER_ACTION.get(conversation.state, "Done."))
    return redirect(url_for(".show", conversation_id=conversation_id))


@bp.post("/<uuid:conversation_id>/take-over")
def take_over(conversation_id: uuid.UUID) -> Any:
    return _act(conversation_id, conversations.take_over)


@bp.post("/<uuid:conversation_id>/hand-back")
def hand_back(conversation_id: uuid.UUID) -> Any:
    return _act(conversation_id, conversations.hand_back)


@bp.post("/<uuid:conversation_id>/close")
def close(conversation_id: uuid.UUID) -> Any:
    return _act(conversation_id, conversations.close)
