"""The plugin contract: every hook a pack or third-party plugin may implement.

Hooks are called with keyword arguments only, so a hook can gain arguments later without
breaking the plugins that implement it. Each hook is documented, with an example, in
``docs/plugin_hooks.md``; a test fails when one is not.
"""

from __future__ import annotations

import uuid

import pluggy

hookspec = pluggy.HookspecMarker("twofold")


@hookspec
def twofold_tenant_created(tenant_id: uuid.UUID) -> None:
    """A company has just signed up.

    Runs inside the signup transaction, in the new tenant's scope, acting as its owner:
    rows the hook adds are written with the tenant, and an exception undoes the whole
    signup.
    """
