"""Throttling of sign-in and sign-up attempts, with the counters in the app's Redis.

Every app server counts in the same Redis, so an attacker gains nothing by spreading
attempts over servers. Each app has its own throttle (built in ``create_app``) on the
``limits`` library's fixed-window counters. If Redis is unreachable the throttle lets
requests through and logs it: locking every user out would be worse.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """A limit (``"5 per 15 minutes"``) on one key (``"login-account:ann@example.com"``)."""

    limit: str
    key: str

    @property
    def item(self) -> RateLimitItem:
        return parse(self.limit)


@dataclass(frozen=True)
class Refusal:
    rule: Rule
    retry_after: int


class Throttle:
    def __init__(self, storage_uri: str) -> None:
        self.storage_uri = storage_uri
        self.limiter = FixedWindowRateLimiter(storage_from_string(storage_uri))

    def refused(self, rules: list[Rule]) -> Refusal | None:
        """The first rule whose allowance is used up, without counting this attempt."""
        try:
            for rule in rules:
                if not self.limiter.test(rule.item, "twofold", rule.key):
                    reset, _remaining = self.limiter.get_window_stats(rule.item, "twofold", rule.key)
                    return Refusal(rule, max(1, int(reset - time.time())))
        except Exception:  # Redis down: fail open, loudly
            log.exception("throttle storage unreachable; not throttling")
        return None

    def hit(self, rules: list[Rule]) -> None:
        """Count one attempt against every rule."""
        try:
            for rule in rules:
                self.limiter.hit(rule.item, "twofold", rule.key)
        except Exception:
            log.exception("throttle storage unreachable; attempt not counted")


def storage_uri(redis_url: str) -> str:
    """The ``limits`` library spells a unix-socket Redis ``redis+unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def init_app(app: Flask) -> None:
    app.extensions["twofold.throttle"] = Throttle(storage_uri(app.config["REDIS_URL"]))


def throttle() -> Throttle:
    return current_app.extensions["twofold.throttle"]
