"""Start-up trampoline, installed at the top of site-packages as ``_peep_hook_start``.

``peep_hook.pth`` imports it in every Python process, so it is as small as a
module can be: stdlib ``sys`` only, no class, no file touched. It puts itself
on ``sys.meta_path`` and waits for pip to be looked up; only then does it
import :mod:`peep_hook.startup.bootstrap` (which does the real work) and hand over;
if pip was imported before it ran (an earlier ``.pth`` file), it hands over
at once. Python processes that never use pip import nothing else of peep-hook.

If the ``peep_hook`` package has gone while this module and the ``.pth``
stayed (a half-finished uninstall), pip commands that fetch archives stop with
exit status 1 and say which file to remove; everything else runs as usual.
"""

import sys

# Copies of peep_hook.startup.bootstrap's facts: this module imports nothing but sys
# at start-up. tests/test_sitecustomize.py proves them equal.
# bootstrap.PIP_MODULES: pip's modules whose lookup starts the hook.
_WATCHED = ("pip", "pip._internal.cli.base_command", "pip._internal.operations.prepare")
# bootstrap.FETCHING_COMMANDS: refused when the hook is half installed.
_FETCHING = ("install", "download", "wheel", "lock")  # a constant: no cost at start-up
# bootstrap.BELOW_PIP_ENV: below a protected pip run, the bootstrap also
# watches setuptools (which fetches setup_requires itself), so it starts now.
_BELOW_PIP_ENV = "PEEP_HOOK_BELOW_PIP"


def install():
    """Wait for pip. Idempotent (a venv runs its .pth files twice)."""
    me = sys.modules[__name__]
    if me not in sys.meta_path:
        sys.meta_path.insert(0, me)
    if "pip" in sys.modules or _BELOW_PIP_ENV in getattr(sys.modules.get("os"), "environ", ()):
        # pip was imported before this ran (by a .pth file sorting before
        # peep_hook.pth, or one in the user site): arm now, as the bootstrap
        # would never see pip's modules looked up. Below a protected pip run:
        # watch setuptools from the start.
        _hand_over(at_start_up=True)


def find_spec(fullname, path=None, target=None):
    if fullname not in _WATCHED:
        return None
    bootstrap = _hand_over()
    return bootstrap.find_spec(fullname, path, target) if bootstrap else None


def _hand_over(at_start_up=False):
    try:
        bootstrap = _import_bootstrap()
    except Exception as exc:
        if at_start_up:  # never raise while site runs the .pth files
            return None
        bootstrap, problem = None, exc
    try:
        sys.meta_path.remove(sys.modules[__name__])
    except (KeyError, ValueError):
        pass
    if bootstrap is None:
        _half_installed(problem)
        return None
    bootstrap.start()
    return bootstrap


def _import_bootstrap():
    """The bootstrap beside this file. pip's isolated build environment drops
    site-packages from sys.path after the .pth files ran, yet its build backend
    may run pip (in-process, or as a child): look here too."""
    try:
        from peep_hook.startup import bootstrap
    except ImportError:
        import os

        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, here)
        try:
            from peep_hook.startup import bootstrap
        finally:
            sys.path.remove(here)
    return bootstrap


def _half_installed(exc):
    import os

    # Below a protected pip run (a build backend's pip, in-process or not),
    # any pip is refused; elsewhere only a command that fetches.
    if _BELOW_PIP_ENV in os.environ or set(_FETCHING).intersection(sys.argv[1:]):

        pth = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peep_hook.pth")
        raise SystemExit(
            "ERROR: peep-hook is only half installed ({}: {}), so pip cannot check "
            "archive hashes. Remove {} and {}, or reinstall peep-hook; set "
            "PEEP_HOOK=off to run one command unchecked.".format(
                type(exc).__name__, exc, pth, os.path.abspath(__file__))
        )


install()
