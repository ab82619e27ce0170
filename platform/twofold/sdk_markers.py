"""The hook implementation marker, apart from :mod:`twofold.sdk` to avoid an import cycle."""

import pluggy

hookimpl = pluggy.HookimplMarker("twofold")
