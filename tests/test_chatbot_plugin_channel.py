"""A channel from a third-party plugin works like the core's: in through the generic
webhook, the bot's replies and a manager's out through the plugin's ``send``."""

from __future__ import annotations

import hashlib
import hmac
import json

from flask import Flask

from tests.plugins import bot_fixture, sms_channel
from tests.support.chatbot import counts, settle, shop
from tests.support.crm import Api
from tests.support.receiver import receiver


def test_an_sms_conversation_through_a_plugin_channel(app: Flask) -> None:
    plugins = app.extensions["twofold.plugins"]
    if plugins.manager.get_plugin(sms_channel.NAME) is None:
        plugins.register(sms_channel, name=sms_channel.NAME)
    tenant = shop(app, "sofas")
    api = Api(app, tenant)
    refused = api.post("/channels", json={"kind": "sms", "name": "SMS"})
    assert refused.status_code == 422 and "kind" in refused.get_json()["errors"]  # the pack is off
    assert api.post(f"/packs/{sms_channel.NAME}/enable").status_code == 200
    with receiver() as gateway:
        response = api.post("/channels", json={"kind": "sms", "name": "SMS", "flow": bot_fixture.FLOW,
                                                "gateway_url": gateway.url})
        assert response.status_code == 201, response.get_json()
        channel = response.get_json()
        secret = channel["secrets"]["secret"]
        for n, text in enumerate(["Hi", "A chair", "small", "Phone"]):
            raw = json.dumps({"from": "+79123456789", "id": f"sms-{n}", "text": text}).encode()
            signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            answer = app.test_client().post(f"/hooks/channels/{channel['id']}", data=raw,
                                            content_type="application/json",
                                            headers={"X-Sms-Signature": signature})
            assert answer.status_code == 200 and answer.get_json() == {}  # SMS has no response body
        settle(app)
        texts = [json.loads(r.body)["text"] for r in gateway.requests]
        # The phone came with the SMS: after "Phone" the bot does not ask for it.
        assert texts[-1] == "Thanks! A manager will write to you here."
        assert len(texts) == 4
        (chat,) = api.get("/conversations").get_json()["data"]
        assert chat["error"] is None and chat["lead"] is not None, chat
        assert counts(app, tenant.tenant_id)["leads"] == 1
        contact = api.get("/records/contact").get_json()["data"][0]
        assert contact["phone"] == "+79123456789"
        forged = app.test_client().post(
            f"/hooks/channels/{channel['id']}", data=b'{"from":"x","id":"9","text":"x"}',
            content_type="application/json", headers={"X-Sms-Signature": "0" * 64},
        )
        assert forged.status_code == 403
