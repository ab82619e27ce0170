"""Using the pages as a person does: signed in, posting forms with the page's CSRF token."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.factories import TenantHandle, csrf_token, invite_and_join, login, signup


@dataclass
class Browser:
    client: FlaskClient
    tenant: TenantHandle
    email: str
    _token: str = field(default="", repr=False)

    def url(self, path: str) -> str:
        return f"/t/{self.tenant.slug}{path}"

    @property
    def token(self) -> str:
        if not self._token:
            self._token = csrf_token(self.client, self.url("/"))
        return self._token

    def get(self, path: str, *, htmx: bool = False, **kwargs: Any) -> TestResponse:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(self.url(path), headers=headers, **kwargs)

    def post(self, path: str, data: Any = None, *, htmx: bool = False, **kwargs: Any) -> TestResponse:
        """A form post; with ``htmx`` the token travels in the X-CSRFToken header, as base.html sets it."""
        items = list(data.items(multi=True)) if hasattr(data, "items") and hasattr(data, "getlist") else \
            list((data or {}).items())
        if htmx:
            headers = {"HX-Request": "true", "X-CSRFToken": self.token}
        else:
            headers = {}
            items.append(("csrf_token", self.token))
        return self.client.post(self.url(path), data=_multi(items), headers=headers, **kwargs)

    def api(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        return getattr(self.client, method)(f"/api/v1{path}", headers=self.tenant.api(), **kwargs)


def _multi(items: list[tuple[str, Any]]) -> Any:
    from werkzeug.datastructures import MultiDict

    out: MultiDict = MultiDict()
    for key, value in items:
        if isinstance(value, list | tuple):
            for v in value:
                out.add(key, v)
        else:
            out.add(key, value)
    return out


def owner_browser(app: Flask, slug: str, *packs: str) -> Browser:
    """A new company whose owner is signed in, with the given packs enabled."""
    handle = signup(app, slug)
    client = app.test_client()
    for pack in packs:
        response = client.post(f"/api/v1/packs/{pack}/enable", headers=handle.api())
        assert response.status_code == 200, response.get_json()
    login(client, handle.email)
    return Browser(client, handle, handle.email)


def member_browser(app: Flask, owner: Browser, email: str, role: str) -> Browser:
    invite_and_join(app, owner.tenant, email, role)
    client = app.test_client()
    login(client, email)
    return Browser(client, owner.tenant, email)


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def visible_text(html: str) -> str:
    """The page's words without tags, spaces collapsed: what a person reads."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def record_id_from(location: str) -> uuid.UUID:
    match = re.search(r"/records/\w+/([0-9a-f-]{36})", location)
    assert match, location
    return uuid.UUID(match.group(1))
