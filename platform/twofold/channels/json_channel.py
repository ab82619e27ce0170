"""A generic JSON webhook channel for any other platform, signed with HMAC-SHA256.

In: ``POST /hooks/channels/<channel id>`` with ``X-Twofold-Signature: sha256=<hex of the
body>`` and ``{"user_id", "message_id", "text", "name"?, "phone"?, "email"?, "source"?}``.
The bot's reply comes back in the response (``{"replies": [{"text", "choices"}]}``); a
manager's reply is posted, signed the same way, to the channel's ``reply_url``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from twofold.channels.meta import ChannelSpec, Inbound, Outbound
from twofold.integrations import signing

TIMEOUT = 10


def parse(config: dict[str, Any], raw: bytes, headers: dict[str, str]) -> list[Inbound]:
    if not signing.valid(config.get("secret"), raw, headers.get(signing.HEADER)):
        raise PermissionError(f"{signing.HEADER} does not match the body")
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ValueError("The body is not JSON.") from exc
    if not isinstance(body, dict):
        raise ValueError("Send a JSON object.")
    missing = [k for k in ("user_id", "message_id") if not str(body.get(k) or "").strip()]
    if missing:
        raise ValueError(f"Missing {', '.join(missing)}.")
    source = body.get("source") if isinstance(body.get("source"), dict) else {}
    known = {k: str(body[k]) for k in ("phone", "email") if body.get(k)}
    return [
        Inbound(
            user_id=str(body["user_id"])[:120],
            message_id=str(body["message_id"])[:120],
            text=str(body.get("text") or ""),
            name=str(body.get("name") or ""),
            source={str(k): str(v)[:500] for k, v in source.items()},
            known=known,
            raw=body,
        )
    ]


def respond(address: str, answer: Outbound) -> dict[str, Any]:
    return {"replies": [{"to": address, "text": answer.text, "choices": list(answer.choices)}]}


def send(config: dict[str, Any], to: str, text: str) -> None:
    url = str(config.get("reply_url") or "")
    if not url:
        raise RuntimeError("This channel has no reply URL: replies can only go back in responses.")
    from twofold.integrations.targets import target_problem

    problem = target_problem(url)
    if problem:
        raise RuntimeError(problem)
    body = json.dumps({"to": to, "text": text}).encode()
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={
            "Content-Type": "application/json",
            signing.HEADER: signing.signature(config["secret"], body),
        },
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT):
        pass


SPEC = ChannelSpec("json", "JSON webhook", send=send, parse=parse, respond=respond)
