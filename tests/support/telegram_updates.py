"""Bot API update JSON, shaped as Telegram sends it to a webhook."""

from __future__ import annotations

from typing import Any

USER = {"id": 7001, "is_bot": False, "first_name": "Ivan", "last_name": "Petrov", "language_code": "ru"}


def update(update_id: int, text: str, user: dict[str, Any] | None = None, **message: Any) -> dict[str, Any]:
    sender = user or USER
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id - 1000,
            "from": sender,
            "chat": {"id": sender["id"], "type": "private", "first_name": sender.get("first_name", "")},
            "date": 1764770000 + update_id,
            "text": text,
            **message,
        },
    }


def conversation(first_id: int, texts: list[str], user: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [update(first_id + n, text, user) for n, text in enumerate(texts)]
