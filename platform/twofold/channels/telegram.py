"""Telegram: updates in through a webhook with a secret token, replies out through the Bot API.

The Bot API's address is the app's ``TELEGRAM_API_BASE`` (tests point it at a local HTTP
server). A reply to an update rides in the webhook's response body (Telegram runs the
method it finds there), so the client's first answer costs no outgoing request at all.
"""

from __future__ import annotations

import hmac
import json
import urllib.error
import urllib.request
from typing import Any

from flask import current_app

from twofold.channels.meta import ChannelSpec, Inbound, Outbound

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TIMEOUT = 10


class TelegramError(RuntimeError):
    """The Bot API refused a call (its ``description``) or could not be reached."""


def api_base() -> str:
    return str(current_app.config.get("TELEGRAM_API_BASE") or "https://api.telegram.org").rstrip("/")


def call(token: str, method: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{api_base()}/bot{token}/{method}",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        raise TelegramError(body.get("description") or f"Bot API answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise TelegramError(f"Bot API unreachable: {exc}") from exc
    if not body.get("ok"):
        raise TelegramError(body.get("description") or "Bot API refused the call")
    return body.get("result")


def _keyboard(answer: Outbound) -> dict[str, Any]:
    if not answer.choices:
        return {"remove_keyboard": True}
    return {
        "keyboard": [[{"text": choice}] for choice in answer.choices],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }


def message_payload(address: str, answer: Outbound) -> dict[str, Any]:
    return {"chat_id": address, "text": answer.text, "reply_markup": _keyboard(answer)}


def respond(address: str, answer: Outbound) -> dict[str, Any]:
    """The webhook response that makes Telegram send ``answer`` itself."""
    return {"method": "sendMessage", **message_payload(address, answer)}


def send(config: dict[str, Any], to: str, text: str, choices: tuple[str, ...] = ()) -> str | None:
    result = call(config["token"], "sendMessage", message_payload(to, Outbound(text, tuple(choices))))
    return str(result.get("message_id")) if isinstance(result, dict) else None


def parse(config: dict[str, Any], raw: bytes, headers: dict[str, str]) -> list[Inbound]:
    given = headers.get(SECRET_HEADER, "")
    expected = str(config.get("webhook_secret") or "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise PermissionError(f"{SECRET_HEADER} does not match")
    try:
        update = json.loads(raw or b"{}")
    except ValueError:
        return []
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("from"), dict):
        return []  # edits, channel posts, member updates: nothing a client said to the bot
    sender = message["from"]
    chat = message.get("chat") or {}
    text = str(message.get("text") or message.get("caption") or "")
    source: dict[str, str] = {}
    if text.startswith("/start"):
        payload = text[len("/start"):].strip()
        if payload:
            source["start"] = payload[:64]
    known: dict[str, str] = {}
    contact = message.get("contact")
    own = isinstance(contact, dict) and contact.get("user_id") == sender.get("id")
    if own and contact.get("phone_number"):
        known["phone"] = str(contact["phone_number"])
        text = text or str(contact["phone_number"])
    name = " ".join(str(sender.get(k) or "") for k in ("first_name", "last_name")).strip()
    return [
        Inbound(
            user_id=str(sender["id"]),
            message_id=str(update.get("update_id")),
            text=text,
            name=name or str(sender.get("username") or ""),
            address=str(chat.get("id") or sender["id"]),
            source=source,
            known=known,
            raw=update,
        )
    ]


def connect(token: str, secret: str, url: str) -> dict[str, Any]:
    """Check the token (``getMe``) and point the bot's webhook at us, with the secret."""
    me = call(token, "getMe", {})
    call(token, "setWebhook", {"url": url, "secret_token": secret, "allowed_updates": ["message"]})
    return {"username": (me or {}).get("username", "")}


SPEC = ChannelSpec("telegram", "Telegram", send=send, parse=parse, respond=respond)
