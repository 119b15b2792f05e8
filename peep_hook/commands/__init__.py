"""The ``peep-hook`` commands. ``check``, ``port``, ``verify``, ``status``,
``hash`` and the global hook's installer never import pip; ``fill`` (and
``verify --deep``, through it) use pip's own finder and session, imported
only when they run. tests/test_layout.py checks this.
"""
