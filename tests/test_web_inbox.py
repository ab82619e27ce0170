"""The managers' inbox pages, with conversations that really came in through the Telegram
webhook (the Bot API is the local stand-in of tests/support/bot_api.py) and a JSON channel."""

from __future__ import annotations

import json
import re
import uuid
from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support.bot_api import BotApi
from tests.support.chatbot import ANSWERS, connect, post, settle, shop
from tests.support.chatbot import telegram as telegram  # the fixture, for this module too
from tests.support.chatbot import work as _work
from tests.support.crm import Api
from tests.support.factories import TenantHandle, login
from tests.support.retries import bring_retries_forward
from tests.support.telegram_updates import conversation, update
from tests.support.web import Browser, member_browser, text, visible_text
from twofold.channels import delivery
from twofold.channels.models import Message
from twofold.db import db
from twofold.entities.models import Record
from twofold.integrations import signing
from twofold.tenancy.scope import tenant_scope

ANNA = {"id": 7002, "is_bot": False, "first_name": "Anna", "last_name": "Smirnova"}
OLGA = {"id": 7003, "is_bot": False, "first_name": "Olga", "last_name": "Ivanova"}
OLGA_ANSWERS = ["/start", "A lamp", "small", "Phone", "+7 912 000-11-22"]


def owner(app: Flask, tenant: TenantHandle) -> Browser:
    client: FlaskClient = app.test_client()
    login(client, tenant.email)
    return Browser(client, tenant, tenant.email)


def setup(app: Flask, telegram: BotApi, slug: str = "sofas") -> tuple[Browser, str, str]:
    tenant = shop(app, slug)
    path, secret = connect(app, tenant, telegram)
    return owner(app, tenant), path, secret


def chat_with(
    app: Flask, path: str, secret: str, first_id: int, texts: list[str], user: dict | None = None
) -> None:
    for payload in conversation(first_id, texts, user):
        assert post(app, path, secret, payload).status_code == 200
    settle(app)  # what a finished conversation makes, a worker makes


def conversation_of(app: Flask, tenant: TenantHandle, name: str) -> SimpleNamespace:
    """The client's conversation as the API lists it: its id, and its lead's id if any."""
    chats = Api(app, tenant).get("/conversations").get_json()["data"]
    found = next(c for c in chats if c["client"]["name"] == name)
    lead = found["lead"]["id"] if found["lead"] else None
    return SimpleNamespace(id=uuid.UUID(found["id"]), lead_id=lead, state=found["state"])


def messages_of(app: Flask, tenant: TenantHandle, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
    return Api(app, tenant).get(f"/conversations/{conversation_id}").get_json()["messages"]


def state_of(app: Flask, tenant: TenantHandle, conversation_id: uuid.UUID) -> str:
    return Api(app, tenant).get(f"/conversations/{conversation_id}").get_json()["state"]


def tab_counts(html: str) -> dict[str, int]:
    words = visible_text(html)
    labels = {"bot": "Bot talking", "waiting": "Waiting for a human", "human": "With a human",
              "closed": "Closed"}
    out = {}
    for state, label in labels.items():
        match = re.search(rf"{label} (\d+)", words)
        assert match, (label, words[:400])
        out[state] = int(match.group(1))
    return out


def test_the_inbox_shows_how_fast_people_answer_and_how_the_bot_does(app: Flask, telegram: BotApi) -> None:
    tenant = shop(app, "sofas")
    path, secret = connect(app, tenant, telegram)
    browser = owner(app, tenant)
    chat_with(app, path, secret, 5000, ANSWERS)  # Ivan: the bot is done
    chat_with(app, path, secret, 6000, ["hello", "A chair"], ANNA)  # Anna: still answering
    words = visible_text(text(browser.get("/inbox/")))
    # Nobody has answered yet; one flow of two completed, and that one was handed over.
    assert "— median speed to lead" in words
    assert "50 % bot flows completed" in words and "50 % handed to a person" in words
    assert "2 conversations, last 30 days" in words

    api = Api(app, tenant)
    (ivan,) = api.get("/conversations?state=waiting").get_json()["data"]
    assert api.post(f"/conversations/{ivan['id']}/messages", json={"text": "Hello!"}).status_code == 201
    words = visible_text(text(browser.get("/inbox/")))
    assert "100 % answered by a person within 5 min" in words
    assert re.search(r"\d+ s median speed to lead", words), words[:300]


def test_the_tabs_show_each_conversation_in_its_state_with_counts(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 5000, ANSWERS)  # Ivan: the bot is done, he waits
    chat_with(app, path, secret, 6000, ["hello", "A chair"], ANNA)  # Anna: still answering the bot
    chat_with(app, path, secret, 7000, OLGA_ANSWERS, OLGA)  # Olga: done after Ivan

    home = browser.get("/")
    assert 'href="/t/sofas/inbox/"' in text(home)  # the navigation links the inbox

    waiting = browser.get("/inbox/")
    assert waiting.status_code == 200
    assert tab_counts(text(waiting)) == {"bot": 1, "waiting": 2, "human": 0, "closed": 0}
    words = visible_text(text(waiting))
    # Whoever has waited longest is on top; each row has the client, channel and last message.
    assert words.index("Ivan Petrov") < words.index("Olga Ivanova")
    assert "Anna Smirnova" not in words
    assert "Shop bot" in words and "Thanks! A manager will write to you here." in words

    bot = visible_text(text(browser.get("/inbox/?state=bot")))
    assert "Anna Smirnova" in bot and "Is it a small or a large order?" in bot and "Ivan Petrov" not in bot

    human = visible_text(text(browser.get("/inbox/?state=human")))
    assert "No conversation is with a manager" in human
    closed = visible_text(text(browser.get("/inbox/?state=closed")))
    assert "No closed conversations yet." in closed

    # The list refreshes itself: asked by htmx, it answers the list alone, current.
    chat_with(app, path, secret, 8000, ["hi"], {"id": 7004, "is_bot": False, "first_name": "Petr"})
    fragment = browser.get("/inbox/?state=bot", htmx=True)
    assert "<html" not in text(fragment) and 'hx-trigger="every 5s"' in text(fragment)
    assert "Petr" in visible_text(text(fragment))
    assert tab_counts(text(fragment))["bot"] == 2


def test_the_conversation_page_shows_transcript_answers_source_and_lead(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 5000, ANSWERS)
    chat = conversation_of(app, browser.tenant, "Ivan Petrov")
    page = browser.get(f"/inbox/{chat.id}")
    assert page.status_code == 200
    html, words = text(page), visible_text(text(page))
    # The transcript, client and bot, in order.
    assert words.index("/start spring_ads") < words.index("What are you looking for?") < words.index("A sofa")
    assert html.count('class="bubble from-client"') == len(ANSWERS)
    assert html.count('class="bubble from-bot"') == len(ANSWERS)
    # Answers under the flow's questions, the choice made, the source, the lead.
    assert "What is your budget? 1500" in words
    assert "Is it a small or a large order? large" in words
    assert "Choices made" in words
    assert "Start payload spring_ads" in words and "Channel telegram" in words
    assert f'href="/t/sofas/records/lead/{chat.lead_id}"' in html
    assert "None: this is the contact's first." in words
    assert "Waiting for a human" in words and "Take over" in words


def test_a_returning_clients_page_lists_their_earlier_lead(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 5000, ANSWERS)
    first = conversation_of(app, browser.tenant, "Ivan Petrov")
    assert browser.post(f"/inbox/{first.id}/close").status_code == 302
    chat_with(app, path, secret, 5100, ["hi", "A table", "small", "Phone"])
    chats = Api(app, browser.tenant).get("/conversations?state=waiting").get_json()["data"]
    (second,) = chats
    words = visible_text(text(browser.get(f"/inbox/{second['id']}")))
    earlier = words[words.index("Earlier deals and orders"):]
    assert "A sofa" in earlier and "Lead" in earlier
    assert "A table" not in earlier  # this conversation's own lead is above, not "earlier"


def test_utm_and_page_of_a_website_chat_are_shown(app: Flask, telegram: BotApi) -> None:
    browser, _path, _secret = setup(app, telegram)
    api = Api(app, browser.tenant)
    channel = api.post("/channels", json={"kind": "json", "name": "Site chat"}).get_json()
    body = json.dumps({
        "user_id": "visitor-1", "message_id": "m-1", "text": "Do you deliver?", "name": "Site visitor",
        "source": {"utm_source": "google", "utm_campaign": "spring", "referrer": "https://search.example/",
                   "page": "/sofas/corner"},
    }).encode()
    response = app.test_client().post(
        f"/hooks/channels/{channel['id']}", data=body, content_type="application/json",
        headers={signing.HEADER: signing.signature(channel["secrets"]["secret"], body)},
    )
    assert response.status_code == 200, response.get_data()
    chat = conversation_of(app, browser.tenant, "Site visitor")
    words = visible_text(text(browser.get(f"/inbox/{chat.id}")))
    assert "utm_source google" in words and "utm_campaign spring" in words
    assert "Referrer https://search.example/" in words and "Page /sofas/corner" in words
    assert "Do you deliver?" in words
    assert "No answers collected." in words and "not linked to a contact yet" in words


def test_take_over_reply_hand_back_and_close(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 6000, ["hello", "A chair"], ANNA)  # the bot asks the size next
    chat = conversation_of(app, browser.tenant, "Anna Smirnova")
    tenant = browser.tenant

    response = browser.post(f"/inbox/{chat.id}/take-over")
    assert response.status_code == 302
    assert state_of(app, tenant, chat.id) == "human"
    page = visible_text(text(browser.get(f"/inbox/{chat.id}")))
    assert "the bot stays quiet" in page and "With a human" in page and f"with {tenant.email}" in page
    # The bot has stopped: the client's message is stored, nothing answers it.
    assert post(app, path, secret, update(6100, "large", ANNA)).get_json() == {}

    last = messages_of(app, tenant, chat.id)[-1]
    sent = {"text": "Hi Anna, which colour?", "after": last["id"]}
    response = browser.post(f"/inbox/{chat.id}/reply", sent, htmx=True)
    assert response.status_code == 200
    html = text(response)
    assert "Hi Anna, which colour?" in visible_text(html) and "queued" in visible_text(html)
    assert 'hx-swap-oob="beforebegin:#poll"' in html  # the message joins the transcript in place
    assert "large" not in visible_text(html)  # already on the page: not sent again
    _work(app)
    assert telegram.sent() == [{"chat_id": str(ANNA["id"]), "text": "Hi Anna, which colour?",
                                "reply_markup": {"remove_keyboard": True}}]
    assert messages_of(app, tenant, chat.id)[-1]["status"] == "sent"
    page = text(browser.get(f"/inbox/{chat.id}"))
    assert re.search(r"Hi Anna, which colour\?", page)
    reply_bubble = page[page.index('class="bubble from-human"'):]
    assert ">sent<" in reply_bubble[:600] and tenant.email in reply_bubble[:600]

    response = browser.post(f"/inbox/{chat.id}/hand-back")
    assert response.status_code == 302 and state_of(app, tenant, chat.id) == "bot"
    # The bot goes on where it stopped: it still wants the size.
    answer = post(app, path, secret, update(6200, "small", ANNA)).get_json()
    assert answer["text"] == "How should we reach you?"

    response = browser.post(f"/inbox/{chat.id}/close")
    assert response.status_code == 302 and state_of(app, tenant, chat.id) == "closed"
    closed = text(browser.get("/inbox/?state=closed"))
    assert "Anna Smirnova" in visible_text(closed) and tab_counts(closed)["closed"] == 1
    page = visible_text(text(browser.get(f"/inbox/{chat.id}")))
    assert "The conversation is closed." in page and "Take over" not in page


def test_handing_back_after_the_flow_waits_for_a_manager_again(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 5000, ANSWERS)
    chat = conversation_of(app, browser.tenant, "Ivan Petrov")
    browser.post(f"/inbox/{chat.id}/take-over")
    response = browser.post(f"/inbox/{chat.id}/hand-back", follow_redirects=True)
    assert "waits for a manager again" in visible_text(text(response))
    assert state_of(app, browser.tenant, chat.id) == "waiting"


def test_an_empty_reply_is_a_field_error_and_stores_nothing(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 5000, ANSWERS)
    chat = conversation_of(app, browser.tenant, "Ivan Petrov")
    before = messages_of(app, browser.tenant, chat.id)

    response = browser.post(f"/inbox/{chat.id}/reply", {"text": "   "}, htmx=True)
    assert response.status_code == 422
    html = text(response)
    assert 'aria-invalid="true"' in html and 'id="e-text"' in html and "Write a reply." in html
    plain = browser.post(f"/inbox/{chat.id}/reply", {"text": ""})
    assert plain.status_code == 422 and "Write a reply." in visible_text(text(plain))

    assert messages_of(app, browser.tenant, chat.id) == before
    assert state_of(app, browser.tenant, chat.id) == "waiting"  # not taken over either
    _work(app)
    assert telegram.sent() == []


def test_the_transcript_poll_returns_only_newer_messages(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 6000, ["hello", "A chair"], ANNA)
    chat = conversation_of(app, browser.tenant, "Anna Smirnova")
    page = text(browser.get(f"/inbox/{chat.id}"))
    shown = messages_of(app, browser.tenant, chat.id)
    assert f"messages?after={shown[-1]['id']}" in page and 'hx-trigger="every 3s"' in page

    nothing = browser.get(f"/inbox/{chat.id}/messages?after={shown[-1]['id']}", htmx=True)
    assert nothing.status_code == 204 and nothing.get_data() == b""

    post(app, path, secret, update(6100, "large", ANNA))  # the client answers, the bot asks on
    fresh = browser.get(f"/inbox/{chat.id}/messages?after={shown[-1]['id']}", htmx=True)
    assert fresh.status_code == 200
    words = visible_text(text(fresh))
    assert "large" in words and "What is your budget?" in words
    assert "A chair" not in words and "hello" not in words
    newest = messages_of(app, browser.tenant, chat.id)[-1]
    assert f"messages?after={newest['id']}" in text(fresh)  # the next poll asks after these


def test_an_agent_can_view_and_reply(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 5000, ANSWERS)
    chat = conversation_of(app, browser.tenant, "Ivan Petrov")
    agent = member_browser(app, browser, "agent@sofas.example.com", "agent")
    assert 'href="/t/sofas/inbox/"' in text(agent.get("/"))
    assert "Ivan Petrov" in visible_text(text(agent.get("/inbox/")))
    response = agent.post(f"/inbox/{chat.id}/reply", {"text": "Hello from the agent"})
    assert response.status_code == 302
    (last,) = [m for m in messages_of(app, browser.tenant, chat.id) if m["author"] == "human"]
    assert last["text"] == "Hello from the agent"
    page = text(agent.get(f"/inbox/{chat.id}"))
    assert "with agent@sofas.example.com" in visible_text(page)
    _work(app)
    assert [m["text"] for m in telegram.sent()] == ["Hello from the agent"]


def test_another_tenant_gets_404_for_the_conversation(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 5000, ANSWERS)
    chat = conversation_of(app, browser.tenant, "Ivan Petrov")
    before = messages_of(app, browser.tenant, chat.id)
    other = owner(app, shop(app, "chairs"))
    assert other.get(f"/inbox/{chat.id}").status_code == 404
    assert other.get(f"/inbox/{chat.id}/messages").status_code == 404
    for action in ("take-over", "hand-back", "close"):
        assert other.post(f"/inbox/{chat.id}/{action}").status_code == 404
    assert other.post(f"/inbox/{chat.id}/reply", {"text": "hi"}).status_code == 404
    assert "Ivan" not in visible_text(text(other.get("/inbox/")))
    assert messages_of(app, browser.tenant, chat.id) == before
    assert state_of(app, browser.tenant, chat.id) == "waiting"
    with app.app_context(), tenant_scope(browser.tenant.tenant_id):
        assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == len(before)
        assert db.session.scalar(db.select(db.func.count()).select_from(Record)) == 2


def test_a_reply_the_platform_refused_shows_its_error(app: Flask, telegram: BotApi) -> None:
    browser, path, secret = setup(app, telegram)
    chat_with(app, path, secret, 5000, ANSWERS)
    chat = conversation_of(app, browser.tenant, "Ivan Petrov")
    telegram.fail_methods.add("sendMessage")
    assert browser.post(f"/inbox/{chat.id}/reply", {"text": "Are you there?"}).status_code == 302
    _work(app)
    page = text(browser.get(f"/inbox/{chat.id}"))
    bubble = page[page.index('class="bubble from-human"'):page.index('id="poll"')]
    assert "not sent yet, retrying" in visible_text(bubble) and "Bad Gateway" in visible_text(bubble)
    assert ">sent<" not in bubble

    # Each retry is scheduled later; run them now, until none is left.
    while bring_retries_forward(app, delivery.QUEUE):
        _work(app)
    page = text(browser.get(f"/inbox/{chat.id}"))
    bubble = page[page.index('class="bubble from-human"'):page.index('id="poll"')]
    assert ">failed<" in bubble and "retrying" not in bubble and "Bad Gateway" in visible_text(bubble)
    attempts = [m for m, p in telegram.calls if m == "sendMessage" and p.get("text") == "Are you there?"]
    assert len(attempts) == 4  # the first try and three retries

