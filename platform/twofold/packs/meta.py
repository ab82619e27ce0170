"""What a pack says about itself and what it adds to the navigation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackInfo:
    """A pack's name as tenants see it. ``name`` is the plugin's entry-point name."""

    name: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class NavItem:
    """A link in the tenant's navigation: ``endpoint`` is a Flask endpoint of a tenant page."""

    label: str
    endpoint: str
    order: int = 100
    min_role: str = "agent"
