"""peep-hook: peep's hash comments, enforced by an unchanged ``pip install``.

Importing this package costs nothing: the start-up bootstrap lives in
:mod:`peep_hook.startup.bootstrap`, and everything that touches pip is imported only
once pip is.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
