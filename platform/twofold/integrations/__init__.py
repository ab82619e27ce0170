"""Integrations: outbound webhooks, inbound forms and hooks, and the connector registry."""
