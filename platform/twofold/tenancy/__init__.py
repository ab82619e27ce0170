"""Tenants (companies), how a request finds its tenant, and the automatic query scope."""
