"""Twofold's B2B pack."""
