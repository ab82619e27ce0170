"""Helpers of the chatbot's tests: the test pack's tenant, a connected fake Telegram bot,
posting updates as Telegram does, counting what a conversation wrote."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from rq import Queue, SimpleWorker

from tests.plugins import bot_fixture
from tests.support.bot_api import GOOD_TOKEN, BotApi, bot_api
from tests.support.crm import Api
from tests.support.factories import TenantHandle, signup
from twofold.channels import delivery
from twofold.channels.models import ContactIdentity, Conversation, Message
from twofold.db import db
from twofold.entities.models import Record
from twofold.events.models import OutboxEvent
from twofold.tenancy.scope import tenant_scope

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A client walking the test pack's flow: a deep link, the need, a large order, a wrong
# budget and a right one, the phone.
ANSWERS = ["/start spring_ads", "A sofa", "large", "lots", "1500", "Phone", "+7 912 345-67-89"]


@pytest.fixture
def telegram(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotApi]:
    with bot_api() as api:
        monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", api.url)
        yield api


def shop(app: Flask, slug: str) -> TenantHandle:
    plugins = app.extensions["twofold.plugins"]
    if plugins.manager.get_plugin(bot_fixture.NAME) is None:
        plugins.register(bot_fixture, name=bot_fixture.NAME)
    tenant = signup(app, slug)
    response = app.test_client().post(f"/api/v1/packs/{bot_fixture.NAME}/enable", headers=tenant.api())
    assert response.status_code == 200, response.get_json()
    return tenant


def connect(app: Flask, tenant: TenantHandle, telegram: BotApi) -> tuple[str, str]:
    """Connect a bot as an admin does; returns the webhook path and the secret Telegram got."""
    response = Api(app, tenant).post(
        "/channels",
        json={"kind": "telegram", "name": "Shop bot", "flow": bot_fixture.FLOW, "token": GOOD_TOKEN},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    hook = next(p for m, p in telegram.calls if m == "setWebhook")
    assert hook["url"] == body["webhook_url"]
    assert hook["url"].endswith(f"/hooks/telegram/{body['id']}")
    return f"/hooks/telegram/{body['id']}", hook["secret_token"]


def post(app: Flask, path: str, secret: str, payload: dict[str, Any]) -> Any:
    return app.test_client().post(path, json=payload, headers={SECRET_HEADER: secret})


def counts(app: Flask, tenant_id: uuid.UUID) -> dict[str, int]:
    with app.app_context(), tenant_scope(tenant_id):
        def n(model: Any, *where: Any) -> int:
            return len(db.session.scalars(db.select(model).where(*where)).all())

        return {
            "identities": n(ContactIdentity),
            "conversations": n(Conversation),
            "messages": n(Message),
            "contacts": n(Record, Record.entity_type == "contact"),
            "leads": n(Record, Record.entity_type == "lead"),
            "completed_events": n(OutboxEvent, OutboxEvent.kind == "conversation.completed"),
        }



def work(app: Flask) -> None:
    """Send the queued replies with a real worker."""
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        SimpleWorker([Queue(delivery.QUEUE, connection=connection)], connection=connection).work(burst=True)


def settle(app: Flask) -> None:
    """Run every queued job with real workers until none is left: the records a finished
    conversation makes (its event's handler), the rules that follow, the replies they send."""
    with app.app_context():
        connection = app.extensions["twofold.redis"]
        names = ("events", "automations", "default", "mail")
        queues = [Queue(name, connection=connection) for name in names]
        for _ in range(10):
            if not any(q.count for q in queues):
                return
            SimpleWorker(queues, connection=connection).work(burst=True)
