"""The B2C pack's hook implementations.

Its entities, funnel, automations and metrics arrive with the B2C issue; for now the pack
announces itself so that tenants can enable it.
"""

from twofold.sdk import PackInfo, hookimpl


@hookimpl
def twofold_pack() -> PackInfo:
    return PackInfo(
        "b2c", "B2C: speed and scale",
        "Capture every lead, answer at once, remind, repeat and convert.",
    )
