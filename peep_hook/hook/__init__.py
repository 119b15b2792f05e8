"""Inside pip: the wrappers peep-hook puts around pip, one module per concern.

Imports pip and wrapt, and the pip-free core; never the commands.
:mod:`peep_hook.hook.targets` says where each wrapper goes and applies them.
tests/test_layout.py checks this.
"""
