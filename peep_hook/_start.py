"""Start-up trampoline, installed at the top of site-packages as ``_peep_hook_start``.

``peep_hook.pth`` imports it in every Python process, so it is as small as a
module can be: stdlib ``sys`` only, no class, no file touched. It puts itself
on ``sys.meta_path`` and waits for pip to be looked up; only then does it
import :mod:`peep_hook._bootstrap` (which does the real work) and hand over.
Python processes that never use pip import nothing else of peep-hook.

If the ``peep_hook`` package has gone while this module and the ``.pth``
stayed (a half-finished uninstall), pip commands that fetch archives stop with
exit status 1 and say which file to remove; everything else runs as usual.
"""

import sys

_WATCHED = ("pip", "pip._internal.cli.base_command")


def install():
    """Wait for pip. Idempotent (a venv runs its .pth files twice)."""
    me = sys.modules[__name__]
    if me not in sys.meta_path:
        sys.meta_path.insert(0, me)


def find_spec(fullname, path=None, target=None):
    if fullname not in _WATCHED:
        return None
    try:
        sys.meta_path.remove(sys.modules[__name__])
    except (KeyError, ValueError):
        pass
    try:
        from peep_hook import _bootstrap
    except Exception as exc:
        _half_installed(exc)
        return None
    _bootstrap.start()
    return _bootstrap.find_spec(fullname, path, target)


def _half_installed(exc):
    if {"install", "download", "wheel", "lock"} & set(sys.argv[1:]):
        import os

        pth = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peep_hook.pth")
        raise SystemExit(
            "ERROR: peep-hook is only half installed ({}: {}), so pip cannot check "
            "archive hashes. Remove {} and {}, or reinstall peep-hook; set "
            "PEEP_HOOK=off to run one command unchecked.".format(
                type(exc).__name__, exc, pth, os.path.abspath(__file__))
        )


install()
