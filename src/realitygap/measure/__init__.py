"""Pixels to physics: object tracks, back-projection, law fitting, permanence, geometric consistency."""
