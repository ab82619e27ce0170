"""The generic entity engine: entity types as metadata, records, relations, timeline."""
