"""The one module plugins import from the core.

Anything a plugin needs is re-exported here; deeper modules may change without notice.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("twofold")

__all__ = ["hookimpl"]
