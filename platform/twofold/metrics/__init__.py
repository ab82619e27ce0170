"""Metrics as SQL-level definitions that plugins register, and the engine that runs them."""
