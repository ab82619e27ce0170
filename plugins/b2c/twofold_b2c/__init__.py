"""Twofold's B2C pack."""
