"""Packs: plugins a tenant enables, and the per-tenant view of what they register."""
