"""Channels (where messages come from and go to) and integrations, as plugins register them."""
