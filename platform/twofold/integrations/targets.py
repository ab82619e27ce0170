"""Where a webhook may go: in production, never to a private, loopback or link-local address.

The host is resolved and every address checked, so a public name that points inside the
network is refused as well. Tests and development may target 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from twofold.validation import ValidationError


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified
    )


def target_problem(url: str, *, production: bool | None = None) -> str | None:
    """Why ``url`` may not receive webhooks, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Give an http(s) URL with a host."
    if production is None:
        production = current_app.config.get("TWOFOLD_ENV") == "production"
    if not production:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return "The host does not resolve."
    if not infos or any(_forbidden(info[4][0]) for info in infos):
        return "The host resolves to a private, loopback or link-local address."
    return None


def check_target(url: str, field: str = "url") -> None:
    problem = target_problem(url)
    if problem:
        raise ValidationError({field: [problem]})
