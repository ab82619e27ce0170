"""Which channel kinds a tenant can use: the core's and those of its enabled packs."""

from __future__ import annotations

from twofold.channels.meta import ChannelSpec
from twofold.exceptions import NotFound
from twofold.packs.service import enabled_packs
from twofold.plugins import plugins


class UnknownChannelKind(NotFound):
    pass


def available() -> dict[str, ChannelSpec]:
    """Every channel kind the tenant in scope may connect, by name."""
    out: dict[str, ChannelSpec] = {}
    for contribution in plugins().collect("twofold_channels", enabled_packs()):
        out.setdefault(contribution.value.name, contribution.value)
    return out


def get(name: str) -> ChannelSpec:
    """The kind ``name`` if the tenant may use it (a webhook's hot path: no query for the core's)."""
    registry = plugins()
    packs = registry.pack_names()
    contributions, _failed = registry.collect_safely("twofold_channels", None)  # a broken pack's are left out
    for contribution in contributions:
        spec = contribution.value
        if spec.name != name:
            continue
        if contribution.plugin not in packs or contribution.plugin in enabled_packs():
            return spec
    raise UnknownChannelKind(f"channel kind {name}")
