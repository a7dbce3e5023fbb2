"""Executors, atomic writes, progress and user-facing errors."""
