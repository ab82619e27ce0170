"""Plugins that exist only for the tests (registered by them, never installed)."""
