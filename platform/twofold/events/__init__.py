"""Domain events: written to an outbox with the change, relayed to RQ after the commit."""
