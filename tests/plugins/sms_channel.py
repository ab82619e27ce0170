"""A third party's channel, written only against the SDK: SMS through a gateway.

The gateway posts signed JSON to the channel's webhook; replies go to the gateway's URL
(a local HTTP server in the tests).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request

from twofold.sdk import ChannelSpec, Inbound, PackInfo, hookimpl

NAME = "smsgate"


def parse(config: dict, raw: bytes, headers: dict) -> list[Inbound]:
    expected = hmac.new(config["secret"].encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get("X-Sms-Signature", "")):
        raise PermissionError("bad signature")
    body = json.loads(raw)
    sender = body["from"]
    return [Inbound(user_id=sender, message_id=body["id"], text=body["text"], known={"phone": sender})]


def send(config: dict, to: str, text: str) -> None:
    data = json.dumps({"to": to, "text": text}).encode()
    request = urllib.request.Request(config["gateway_url"], data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5):
        pass


@hookimpl
def twofold_pack() -> PackInfo:
    return PackInfo(NAME, "SMS gateway", "Clients write by SMS.")


@hookimpl
def twofold_channels() -> list[ChannelSpec]:
    return [ChannelSpec("sms", "SMS", send=send, parse=parse)]
