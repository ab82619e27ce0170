"""A test-only integration: settings with a secret, and a connection test that calls out."""

from __future__ import annotations

import urllib.request

from marshmallow import Schema, fields

from twofold import sdk
from twofold.sdk import hookimpl

NAME = "testconnector"


class Settings(Schema):
    base_url = fields.Url(required=True, require_tld=False)
    account = fields.String(required=True)
    api_key = fields.String(required=True)


def check(settings: dict) -> str:
    request = urllib.request.Request(settings["base_url"], method="POST", data=b"{}",
                                     headers={"Authorization": f"Bearer {settings['api_key']}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return f"connected as {settings['account']} ({response.status})"


@hookimpl
def twofold_integrations() -> list[sdk.IntegrationSpec]:
    return [sdk.IntegrationSpec(NAME, "Test connector", settings_schema=Settings,
                                secret_fields=("api_key",), test_connection=check)]
