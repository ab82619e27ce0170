"""Real services for the tests: an SMTP sink, the app config, and the skip-or-fail rule."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def missing(service: str, how: str) -> None:
    """Skip a test whose service is absent; in CI, fail instead (CI installs everything)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{service} is required in CI but is not available: {how}")
    pytest.skip(f"{service} not available: {how}")


@dataclass
class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""

    messages: list[Message] = field(default_factory=list)
    port: int = 0
    _controller: Controller | None = None
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._arrived:
            self.messages.append(message_from_bytes(envelope.content))
            self._arrived.notify_all()
        return "250 Message accepted"

    def start(self) -> None:
        with socket.socket() as probe:  # aiosmtpd cannot start on port 0
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[Message]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        assert len(self.messages) >= count, f"expected {count} emails, got {len(self.messages)}"
        return list(self.messages)


def app_config(*, database_url: str, redis_url: str, smtp: SmtpSink | None) -> dict[str, Any]:
    from twofold.config import normalise_database_url

    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789-0123456789",
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": redis_url,
        "MAIL_SERVER": "127.0.0.1" if smtp else None,
        "MAIL_PORT": smtp.port if smtp else 25,
        "PUBLIC_URL": "http://localhost",
    }
