"""Settings → Channels as an admin uses it: connect channels, edit the bot flow they run.

Telegram is the local stand-in of tests/support/bot_api.py; the pages, the services, the
webhook route and the database are real.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from tests.plugins import bot_fixture
from tests.support.bot_api import GOOD_TOKEN, BotApi, bot_api
from tests.support.telegram_updates import update
from tests.support.web import Browser, member_browser, text, visible_text
from twofold.channels.models import BotFlow, Channel
from twofold.db import db
from twofold.integrations import signing
from twofold.tenancy.scope import tenant_scope

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHANNELS = "/settings/channels/"
FLOW_PAGE = f"/settings/channels/flows/{bot_fixture.FLOW}"


@pytest.fixture
def telegram(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotApi]:
    with bot_api() as api:
        monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", api.url)
        yield api


def shop_owner(app: Flask, slug: str = "sofas") -> Browser:
    """The owner of a company with the bot test pack (and its flow) enabled, signed in."""
    plugins = app.extensions["twofold.plugins"]
    if plugins.manager.get_plugin(bot_fixture.NAME) is None:
        plugins.register(bot_fixture, name=bot_fixture.NAME)
    from tests.support.web import owner_browser

    return owner_browser(app, slug, bot_fixture.NAME)


def stored_channels(app: Flask, owner: Browser) -> list[Channel]:
    with app.app_context(), tenant_scope(owner.tenant.tenant_id):
        found = list(db.session.scalars(db.select(Channel)))
        db.session.expunge_all()
        return found


def stored_flow(app: Flask, owner: Browser) -> dict[str, Any]:
    with app.app_context(), tenant_scope(owner.tenant.tenant_id):
        row = db.session.scalar(db.select(BotFlow).where(BotFlow.key == bot_fixture.FLOW))
        return json.loads(json.dumps(row.definition))


def connect_telegram(owner: Browser, token: str = GOOD_TOKEN) -> Any:
    form = {"kind": "telegram", "name": "Shop bot", "flow": bot_fixture.FLOW, "token": token}
    return owner.post(CHANNELS, form)


class _Fields(HTMLParser):
    """The values a browser would post from the page's structured flow editor."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.inside = False
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = "flow-editor" in a.get("class", "")
        if not self.inside or a.get("name") in (None, "", "csrf_token", "op"):
            if tag == "option" and self.inside and self.select and "selected" in a:
                self.values[self.select] = a.get("value", "")
            return
        if tag == "input":
            self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.values[self.textarea] = ""
        elif tag == "select":
            self.select = a["name"]
            self.values.setdefault(self.select, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] += data


def editor_fields(page: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(page)
    return parser.values


def editor_form(definition: dict[str, Any]) -> dict[str, str]:
    """The structured editor's fields for a definition, as the page fills them in."""
    form = {name: definition[name] for name in ("name", "greeting", "done")} | {"op": "save"}
    for n, step in enumerate(definition["steps"]):
        rule = step.get("next")
        nxt = "\n".join(f"{c} = {k}" for c, k in rule.items()) if isinstance(rule, dict) else (rule or "")
        form |= {
            f"steps-{n}-key": step["key"], f"steps-{n}-question": step["question"],
            f"steps-{n}-input": step.get("input", "text"),
            f"steps-{n}-choices": "\n".join(step.get("choices", [])),
            f"steps-{n}-target": step.get("target", ""), f"steps-{n}-reask": step.get("reask", ""),
            f"steps-{n}-next": nxt,
        }
    return form


def test_connecting_telegram_sets_the_webhook_and_lists_the_channel(app: Flask, telegram: BotApi) -> None:
    owner = shop_owner(app)
    page = owner.get(CHANNELS)
    assert page.status_code == 200
    assert "No channels yet" in visible_text(text(page))
    assert 'value="telegram"' in text(page) and 'value="json"' in text(page)
    assert f'value="{bot_fixture.FLOW}"' in text(page)  # the tenant's flow is offered

    response = connect_telegram(owner)
    assert response.status_code == 200
    (channel,) = stored_channels(app, owner)
    assert (channel.kind, channel.name, channel.flow_key) == ("telegram", "Shop bot", bot_fixture.FLOW)
    hook = next(p for m, p in telegram.calls if m == "setWebhook")
    assert hook["url"].endswith(f"/hooks/telegram/{channel.id}")

    listed = visible_text(text(owner.get(CHANNELS)))
    assert "Shop bot" in listed and "@shop_bot" in listed and "enabled" in listed
    assert hook["url"] in listed  # the webhook address is shown


def test_a_wrong_token_is_a_field_error_and_creates_nothing(app: Flask, telegram: BotApi) -> None:
    owner = shop_owner(app)
    response = connect_telegram(owner, token="000:wrong")
    assert response.status_code == 422
    page = text(response)
    error = re.search(r'<p class="error" id="e-token">([^<]*)</p>', page)
    assert error and error.group(1) == "Telegram refused: Unauthorized"
    assert 'id="f-token"' in page and "000:wrong" not in page  # the token is not echoed
    assert 'value="Shop bot"' in page  # the rest of the admin's input is kept
    assert stored_channels(app, owner) == []
    assert "setWebhook" not in [m for m, _ in telegram.calls]


def test_a_json_channel_shows_its_secret_once(app: Flask) -> None:
    owner = shop_owner(app)
    response = owner.post(CHANNELS, {"kind": "json", "name": "Site chat", "flow": bot_fixture.FLOW})
    assert response.status_code == 200
    (channel,) = stored_channels(app, owner)
    shown = re.search(r'<code id="new-secret">([0-9a-f]+)</code>', text(response))
    assert shown and "will not be shown again" in text(response)
    secret = shown.group(1)
    # It is the real secret: a message signed with it is taken.
    body = json.dumps({"user_id": "c-1", "message_id": "m-1", "text": "hello"}).encode()
    hook = app.test_client().post(f"/hooks/channels/{channel.id}", data=body, content_type="application/json",
                                  headers={signing.HEADER: signing.signature(secret, body)})
    assert hook.status_code == 200, hook.get_data(as_text=True)

    again = text(owner.get(CHANNELS))
    assert "Site chat" in again and f"/hooks/channels/{channel.id}" in again
    assert secret not in again


def test_a_widget_channel_shows_its_embed_snippet(app: Flask) -> None:
    owner = shop_owner(app)
    if 'value="widget"' not in text(owner.get(CHANNELS)):
        pytest.skip("no widget channel kind in this build")
    response = owner.post(CHANNELS, {"kind": "widget", "name": "Site widget", "flow": bot_fixture.FLOW})
    assert response.status_code == 200, visible_text(text(response))[:300]
    (channel,) = stored_channels(app, owner)
    listed = visible_text(text(owner.get(CHANNELS)))
    snippet = re.search(r'<script src="(http[^"]+)" async></script>', listed)
    assert snippet and str(channel.id) in snippet.group(1)
    # The tag's script is served: what the admin pastes works.
    path = snippet.group(1)[snippet.group(1).index("/", len("https://")):]
    assert app.test_client().get(path).status_code == 200


def test_enable_disable_and_change_the_flow(app: Flask, telegram: BotApi) -> None:
    owner = shop_owner(app)
    connect_telegram(owner)
    (channel,) = stored_channels(app, owner)

    assert owner.post(f"{CHANNELS}{channel.id}/disable").status_code == 302
    assert stored_channels(app, owner)[0].enabled is False
    assert "disabled" in visible_text(text(owner.get(CHANNELS)))
    assert owner.post(f"{CHANNELS}{channel.id}/enable").status_code == 302
    assert stored_channels(app, owner)[0].enabled is True

    assert owner.post(f"{CHANNELS}{channel.id}/flow", {"flow": ""}).status_code == 302
    assert stored_channels(app, owner)[0].flow_key is None
    owner.post(f"{CHANNELS}{channel.id}/flow", {"flow": "no.such.flow"})
    assert stored_channels(app, owner)[0].flow_key is None
    assert "No such bot flow." in visible_text(text(owner.get(CHANNELS)))
    owner.post(f"{CHANNELS}{channel.id}/flow", {"flow": bot_fixture.FLOW})
    assert stored_channels(app, owner)[0].flow_key == bot_fixture.FLOW


def test_an_edited_flow_is_what_the_bot_asks(app: Flask, telegram: BotApi) -> None:
    owner = shop_owner(app)
    flows_page = visible_text(text(owner.get("/settings/channels/flows")))
    assert "Shop lead" in flows_page
    page = text(owner.get(FLOW_PAGE))
    assert "What are you looking for?" in page and 'value="contact.phone"' in page  # targets offered

    # The admin changes the first question, then adds a step: "Add a step" changes the form
    # only, with the edit kept, and stores nothing yet.
    definition = stored_flow(app, owner)
    form = editor_fields(page)
    form["steps-0-question"] = "Which piece of furniture do you need?"
    added = owner.post(FLOW_PAGE, form | {"op": "add"})
    assert added.status_code == 200
    form = editor_fields(text(added))
    assert form["steps-0-question"] == "Which piece of furniture do you need?"
    new = len(definition["steps"])
    assert form[f"steps-{new}-key"] == "" and form[f"steps-{new}-input"] == "text"
    assert stored_flow(app, owner) == definition
    form |= {f"steps-{new}-key": "city", f"steps-{new}-question": "Which city are you in?",
             f"steps-{new}-target": "lead.source"}
    # Up to the top, a step at a time, as with the keyboard.
    for i in range(new, 0, -1):
        moved = owner.post(FLOW_PAGE, form | {"op": f"up:{i}"})
        assert moved.status_code == 200
        form = editor_fields(text(moved))
    assert form["steps-0-key"] == "city" and form["steps-1-key"] == "need"

    saved = owner.post(FLOW_PAGE, form | {"op": "save"})
    assert saved.status_code == 302, visible_text(text(saved))[:500]
    stored = stored_flow(app, owner)
    keys = [s["key"] for s in stored["steps"]]
    assert keys == ["city", "need", "size", "budget", "reach", "phone", "email"]
    assert stored["records"] == definition["records"] and stored["links"] == definition["links"]
    assert stored["steps"][3]["reask"] == "Just the number, please."
    assert stored["steps"][2]["next"] == {"large": "budget", "*": "reach"}
    preview = visible_text(text(owner.get(FLOW_PAGE)))
    assert "Which city are you in?" in preview and "any other answer → reach" in preview

    connect_telegram(owner)
    hook = next(p for m, p in telegram.calls if m == "setWebhook")
    path = hook["url"][hook["url"].index("/hooks/"):]

    def say(update_id: int, words: str) -> str:
        response = app.test_client().post(path, json=update(update_id, words),
                                          headers={SECRET_HEADER: hook["secret_token"]})
        assert response.status_code == 200
        return response.get_json()["text"]

    assert "Which city are you in?" in say(9000, "/start")
    assert say(9001, "Lisbon") == "Which piece of furniture do you need?"


BROKEN = {
    "a branch to a missing step": (
        lambda steps: steps[1].update(next={"large": "nowhere", "*": "reach"}),
        "step 'size': goes to 'nowhere', which is not a step.",
    ),
    "a loop": (
        lambda steps: steps[2].update(next="need"),
        "steps: the flow can loop back to 'need' and would never end.",
    ),
    "a target field that does not exist": (
        lambda steps: steps[0].update(target="lead.colour"),
        "step 'need': lead has no field 'colour'.",
    ),
    "a choice step with one choice": (
        lambda steps: steps[3].update(choices=["Phone"], next={"Phone": "phone"}),
        "step 'reach': a choice needs at least two options.",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_flow_is_refused_with_the_reason_and_nothing_changes(app: Flask, case: str) -> None:
    owner = shop_owner(app)
    before = stored_flow(app, owner)
    definition = json.loads(json.dumps(before))
    definition["steps"][0]["question"] = "An edit that must not be stored"
    breaks, reason = BROKEN[case]
    breaks(definition["steps"])

    response = owner.post(FLOW_PAGE, editor_form(definition))
    assert response.status_code == 422
    page = text(response)
    start = page.index('id="flow-problems"')
    problems = visible_text(page[start:page.index("</ul>", start)])
    assert reason in problems
    assert "An edit that must not be stored" in page  # the admin's input is kept
    assert stored_flow(app, owner) == before

    # The JSON editor saves through the same checks.
    response = owner.post(f"{FLOW_PAGE}/json", {"definition": json.dumps(definition)})
    assert response.status_code == 422
    assert reason in visible_text(text(response))
    assert "An edit that must not be stored" in text(response)
    assert stored_flow(app, owner) == before


def test_the_json_editor_saves_and_refuses_what_is_not_json(app: Flask) -> None:
    owner = shop_owner(app)
    definition = stored_flow(app, owner)
    refused = owner.post(f"{FLOW_PAGE}/json", {"definition": "{not json"})
    assert refused.status_code == 422
    assert "That is not valid JSON" in visible_text(text(refused)) and "{not json" in text(refused)

    definition["done"] = "Thank you, we will call you back."
    saved = owner.post(f"{FLOW_PAGE}/json", {"definition": json.dumps(definition)})
    assert saved.status_code == 302
    assert stored_flow(app, owner)["done"] == "Thank you, we will call you back."


def test_agents_get_403_and_see_no_channels_link(app: Flask, telegram: BotApi) -> None:
    owner = shop_owner(app)
    connect_telegram(owner)
    (channel,) = stored_channels(app, owner)
    assert "Channels" in visible_text(text(owner.get("/")))
    agent = member_browser(app, owner, "agent@sofas.example.com", "agent")
    for path in (CHANNELS, "/settings/channels/flows", FLOW_PAGE):
        assert agent.get(path).status_code == 403, path
    definition = stored_flow(app, owner)
    for path, data in (
        (CHANNELS, {"kind": "json", "name": "Agent's channel"}),
        (f"{CHANNELS}{channel.id}/disable", {}),
        (f"{CHANNELS}{channel.id}/flow", {"flow": ""}),
        (FLOW_PAGE, editor_form({**definition, "greeting": "Hacked"})),
        (f"{FLOW_PAGE}/json", {"definition": json.dumps({**definition, "greeting": "Hacked"})}),
    ):
        assert agent.post(path, data).status_code == 403, path
    assert len(stored_channels(app, owner)) == 1
    (kept,) = stored_channels(app, owner)
    assert kept.enabled and kept.flow_key == bot_fixture.FLOW
    assert stored_flow(app, owner) == definition
    assert 'href="/t/sofas/settings/channels/"' not in text(agent.get("/"))


def test_moving_and_removing_steps_change_the_form_until_saved(app: Flask) -> None:
    owner = shop_owner(app)
    before = stored_flow(app, owner)
    form = editor_fields(text(owner.get(FLOW_PAGE)))
    moved = editor_fields(text(owner.post(FLOW_PAGE, form | {"op": "down:0"})))
    assert [moved[f"steps-{n}-key"] for n in range(2)] == ["size", "need"]
    last = len(before["steps"]) - 1
    removed = editor_fields(text(owner.post(FLOW_PAGE, moved | {"op": f"remove:{last}"})))
    assert f"steps-{last}-key" not in removed
    assert stored_flow(app, owner) == before
    # Saving without the e-mail step leaves the "Email" branch dangling: refused, with the reason.
    refused = owner.post(FLOW_PAGE, removed | {"op": "save"})
    assert refused.status_code == 422
    assert "step 'reach': goes to 'email', which is not a step." in visible_text(text(refused))
    assert stored_flow(app, owner) == before
