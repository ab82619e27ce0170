"""Replies that cannot ride on a webhook's response go out through a job, once.

The message row is the ledger: ``queued`` until the platform accepted it, then ``sent``. A
job that runs again (a retry, a worker killed after the send) finds ``sent`` and stops; the
one window left is a crash between the platform's acceptance and our commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from twofold import jobs
from twofold.channels import kinds
from twofold.channels.models import Channel, ContactIdentity, Conversation, Message
from twofold.db import db
from twofold.integrations import secrets_box
from twofold.tenancy.scope import owned

QUEUE = "default"


def channel_config(channel: Channel) -> dict[str, Any]:
    """What an adapter needs: the channel's settings with its secrets unsealed."""
    return {**(channel.settings or {}), **secrets_box.unseal(channel.secrets)}


def queue(message: Message) -> None:
    jobs.enqueue(deliver, str(message.id), queue_name=QUEUE, job_id=f"message-{message.id}")


def deliver(message_id: str) -> str:
    message = owned(Message, uuid.UUID(message_id))
    if message is None or message.status in ("sent", "answered"):
        return "nothing to send"
    conversation = owned(Conversation, message.conversation_id)
    channel = owned(Channel, message.channel_id)
    assert conversation is not None and channel is not None
    identity = owned(ContactIdentity, conversation.identity_id)
    assert identity is not None
    spec = kinds.get(channel.kind)
    if spec.send is None:
        # The platform fetches replies itself (the website widget polls): stored is delivered.
        message.status = "sent"
        db.session.commit()
        return "stored for the client to fetch"
    try:
        external = spec.send(channel_config(channel), identity.address, message.text)
    except Exception as exc:
        message.error = f"{type(exc).__name__}: {exc}"[:1000]
        if _last_attempt():
            message.status = "failed"  # the inbox shows it; a manager can write again
        db.session.commit()
        raise  # RQ retries with backoff; the error is on the message meanwhile
    message.status = "sent"
    message.error = None
    if external and not message.external_id:
        message.external_id = f"out:{external}"
    db.session.commit()
    return "sent"


def _last_attempt() -> bool:
    from rq import get_current_job

    job = get_current_job()
    return job is None or not job.retries_left
