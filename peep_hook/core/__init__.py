"""The pip-free core: requirements files, hashes, policy, audit, pins, records,
messages. The standard library only (each other, and the start-up facts the
bootstrap defines): never pip, never wrapt, so that the hook, the commands and
the start-up code can all use it.
tests/test_layout.py checks this.
"""
