"""The B2B pack's hook implementations.

Its entities, gated funnel, automations and metrics arrive with the B2B issue; for now the
pack announces itself so that tenants can enable it.
"""

from twofold.sdk import PackInfo, hookimpl


@hookimpl
def twofold_pack() -> PackInfo:
    return PackInfo(
        "b2b", "B2B: control of long deals",
        "Buying committees, documents, negotiated terms and gated stages.",
    )
