"""A stand-in for Telegram's Bot API on 127.0.0.1: it records every call and answers ok.

The app reaches it through ``TELEGRAM_API_BASE``; ``calls`` holds ``(method, payload)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.local_server import serve

GOOD_TOKEN = "123456:test-token"


@dataclass
class BotApi:
    url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_methods: set[str] = field(default_factory=set)

    def sent(self) -> list[dict[str, Any]]:
        return [payload for method, payload in self.calls if method == "sendMessage"]


@contextmanager
def bot_api() -> Iterator[BotApi]:
    state = BotApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            token, _, method = self.path.removeprefix("/bot").partition("/")
            state.calls.append((method, payload))
            if token != GOOD_TOKEN:
                self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            elif method in state.fail_methods:
                self._answer(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
            elif method == "getMe":
                self._answer(200, {"ok": True, "result": {"id": 42, "is_bot": True, "username": "shop_bot"}})
            elif method == "sendMessage":
                self._answer(200, {"ok": True, "result": {"message_id": len(state.calls)}})
            else:
                self._answer(200, {"ok": True, "result": True})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serve(Handler) as base:
        state.url = base
        yield state
