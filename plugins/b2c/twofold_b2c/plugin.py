"""The B2C pack's hook implementations (its entities, funnel and automations come later)."""

from twofold.sdk import hookimpl  # noqa: F401
