"""Start-up bootstrap, run by ``peep_hook.pth`` in every Python process.

It must cost next to nothing where pip is never imported, so it uses only
``sys`` and ``os`` (which ``site`` has already imported), touches no file and
prints nothing. It puts a watcher on ``sys.meta_path``; when ``pip`` has been
imported, the watcher loads wrapt and the patches (:mod:`peep_hook.pip_patches`).

Inside pip it fails closed: if the hook cannot load, pip refuses every command
that fetches archives. Outside pip it fails open: nothing here may raise.
"""

import os
import sys

# Where this copy of peep_hook (and, beside it, wrapt) lives. pip's build
# isolation removes site-packages from sys.path in its child processes before
# pip is imported there, so the location is recorded now, at start-up.
HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: pip commands that fetch archives: the ones that must never run unchecked.
FETCHING_COMMANDS = frozenset({"install", "download", "wheel", "lock"})

#: The administrator's configuration file name, beside a global hook.
CONFIG_NAME = "peep-hook.ini"

_state = {"watching": False, "loaded": False, "global_home": None}


class _PipWatcher:
    """A meta path finder that notices pip being imported, and nothing else.

    It acts on ``pip`` and on its submodules: pip's own ``__pip-runner__.py``
    (the entry point of its build children) imports ``pip`` through a finder
    placed ahead of this one, so the first submodule is the next chance.
    """

    _busy = False

    def find_spec(self, fullname, path=None, target=None):
        if self._busy or not (fullname == "pip" or fullname.startswith("pip.")):
            return None
        self._busy = True
        try:
            from importlib.util import find_spec

            spec = find_spec(fullname)
        finally:
            self._busy = False
        loader = spec.loader if spec is not None else None
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return None

        def exec_then_hook(module):
            exec_module(module)
            if module.__name__ == fullname:
                _pip_imported(pip_done=fullname == "pip")

        loader.exec_module = exec_then_hook
        return spec


_WATCHER = _PipWatcher()


def start(global_home=None):
    """Arrange for the hook to load when pip is imported. Idempotent; never raises.

    ``global_home`` is given by a global hook (a sitecustomize in the base
    interpreter): the private directory holding peep_hook, wrapt and the
    administrator's configuration.
    """
    try:
        if global_home:
            _state["global_home"] = global_home
        if _state["watching"] or _state["loaded"]:
            return
        if os.environ.get("PEEP_HOOK", "").strip().lower() == "off" and not (
            global_home and os.path.exists(os.path.join(global_home, CONFIG_NAME))
        ):
            return  # an administrator's file may pin the policy: let it decide
        if "pip" in sys.modules:
            _pip_imported()
            return
        _state["watching"] = True
        sys.meta_path.insert(0, _WATCHER)
    except Exception:
        pass


def _pip_imported(pip_done=True):
    pip = sys.modules.get("pip")
    if _state["loaded"] or pip is None:
        return
    if not pip_done and getattr(getattr(pip, "__spec__", None), "_initializing", False):
        return  # a submodule imported by pip/__init__ itself: wait for pip
    _state["loaded"] = True
    _state["watching"] = False
    try:
        sys.meta_path.remove(_WATCHER)
    except ValueError:
        pass
    try:
        _import_from_home("wrapt")
        _import_from_home("peep_hook.pip_patches")
        pip_patches = sys.modules["peep_hook.pip_patches"]
        pip_patches.activate(config_path=config_path(), refuse=refuse_fetching_commands)
    except Exception as exc:
        refuse_fetching_commands(
            "peep-hook could not load inside pip ({}: {}), so pip cannot check "
            "archive hashes. Reinstall peep-hook and wrapt into this environment "
            "(or remove peep_hook.pth from {}); set PEEP_HOOK=off to run one "
            "command unchecked.".format(type(exc).__name__, exc, HOME)
        )


def config_path():
    """The administrator's configuration file, when a global hook is in use."""
    home = _state["global_home"]
    return os.path.join(home, CONFIG_NAME) if home else None


def _import_from_home(name):
    """Import ``name``, looking in HOME too: build children drop it from sys.path."""
    try:
        __import__(name)
    except ImportError:
        sys.path.insert(0, HOME)
        try:
            __import__(name)
        finally:
            sys.path.remove(HOME)


def refuse_fetching_commands(message):
    """Make every pip command that fetches archives fail with ``message``, exit 1.

    Stdlib only: used when the hook itself cannot load. Other commands
    (``uninstall``, ``list``, ``--version``) keep working so the environment
    can be repaired.
    """
    text = "ERROR: {}\n".format(message)
    try:
        from pip._internal.cli.base_command import Command

        original = Command.main

        def main(self, args):
            if getattr(self, "name", None) in FETCHING_COMMANDS:
                sys.stderr.write(text)
                return 1
            return original(self, args)

        Command.main = main
        return
    except Exception:
        pass
    # pip's command class is not where it has always been: refuse by argv.
    if FETCHING_COMMANDS.intersection(sys.argv[1:]):
        sys.stderr.write(text)
        raise SystemExit(1)
