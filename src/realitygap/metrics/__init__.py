"""Metrics: one module per metric family, pure functions on arrays, properties declared as data."""
