"""Helpers for hermetic tests: archives, a local index, virtual environments."""
