"""The bootstrap: loaded by the start-up trampoline (``_peep_hook_start``)
when pip is looked up, or by a global hook's sitecustomize at start-up.

It uses only ``sys`` and ``os``, touches no file and prints nothing. It waits
on ``sys.meta_path`` for pip's command module; once that is imported it wraps
``Command.main``, and only when a pip command that fetches archives
(``install``, ``download``, ``wheel``, ``lock``) has parsed its options does
it load wrapt and the patches (:mod:`peep_hook.pip_patches`). So ``import
pip``, ``pip --version``, ``pip list`` and ``--help`` pay nothing for them.

Inside pip it fails closed: if the hook cannot load, every fetching command
stops with exit status 1. Outside pip it fails open: nothing here may raise.
"""

import os
import sys

# Where this copy of peep_hook (and, beside it, wrapt) lives. pip's build
# isolation removes site-packages from sys.path in its child processes before
# pip runs there, so the location is recorded now, at start-up.
HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: pip commands that fetch archives: the ones that must never run unchecked.
FETCHING_COMMANDS = frozenset({"install", "download", "wheel", "lock"})

#: The administrator's configuration file name, beside a global hook.
CONFIG_NAME = "peep-hook.ini"

# Every pip command from 20.3 to 26.3 runs through Command.main in this module.
_COMMAND_MODULE = "pip._internal.cli.base_command"

_state = {"watching": False, "armed": False, "loaded": False, "problem": None,
          "global_home": None}


# This module is itself the meta path finder (importlib only needs a
# ``find_spec``): creating a class costs more at start-up than all the rest.
_busy = False


def find_spec(fullname, path=None, target=None):
    """Notice pip's command module (and ``pip``, to check its layout)."""
    global _busy
    if _busy or (fullname != _COMMAND_MODULE and fullname != "pip"):
        return None
    _busy = True
    try:
        from importlib.util import find_spec as find_real_spec

        spec = find_real_spec(fullname)
    finally:
        _busy = False
    loader = spec.loader if spec is not None else None
    exec_module = getattr(loader, "exec_module", None)
    if exec_module is None:
        return None

    def exec_then_hook(module):
        exec_module(module)
        if module.__name__ == _COMMAND_MODULE:
            _arm(module)
        elif module.__name__ == "pip":
            _check_layout(module)

    loader.exec_module = exec_then_hook
    return spec


def start(global_home=None):
    """Arrange for the hook to load when pip runs. Idempotent; never raises.

    ``global_home`` is given by a global hook (a sitecustomize in the base
    interpreter): the private directory holding peep_hook, wrapt and the
    administrator's configuration.
    """
    try:
        if global_home:
            _state["global_home"] = global_home
        if _state["watching"] or _state["armed"]:
            return
        command_module = sys.modules.get(_COMMAND_MODULE)
        if command_module is not None:
            _arm(command_module)
            return
        _state["watching"] = True
        sys.meta_path.insert(0, sys.modules[__name__])
    except Exception:
        pass


def config_path():
    """The administrator's configuration file, when a global hook is in use."""
    home = _state["global_home"]
    return os.path.join(home, CONFIG_NAME) if home else None


def _arm(module):
    """Wrap ``Command.main`` so that fetching commands load the hook first."""
    if _state["armed"]:
        return
    _state["armed"] = True
    _stop_watching()
    # Read here rather than at start-up, which must stay as cheap as possible.
    if os.environ.get("PEEP_HOOK", "").strip().lower() == "off" and not (
        _state["global_home"] and os.path.exists(config_path())
    ):
        return  # an administrator's file may pin the policy: let it decide
    command = getattr(module, "Command", None)
    main = getattr(command, "main", None)
    if main is None:
        _refuse_by_argv("peep-hook cannot find Command.main in this pip's {}".format(
            _COMMAND_MODULE))
        return

    def main_with_hook(self, args):
        if getattr(self, "name", None) in FETCHING_COMMANDS:
            parse_args = getattr(self, "parse_args", None)
            if parse_args is None:
                problem = _load()
                if problem is not None:
                    sys.stderr.write("ERROR: {}\n".format(problem))
                    return 1
            else:
                # Load once the options are parsed: ``--help`` (which exits in
                # parsing) costs nothing, and no argument can fake it.
                def parse_then_load(args):
                    parsed = parse_args(args)
                    problem = _load()
                    if problem is not None:
                        sys.stderr.write("ERROR: {}\n".format(problem))
                        raise SystemExit(1)
                    return parsed

                self.parse_args = parse_then_load
        return main(self, args)

    main_with_hook.__wrapped__ = main
    command.main = main_with_hook


def _load():
    """Load wrapt and the patches, once; return None, or what went wrong."""
    if not _state["loaded"]:
        _state["loaded"] = True
        try:
            _import_from_home("wrapt")
            _import_from_home("peep_hook.pip_patches")
            sys.modules["peep_hook.pip_patches"].activate(config_path=config_path())
        except Exception as exc:
            if type(exc).__name__ == "HookUnavailable":
                _state["problem"] = str(exc)
            else:
                _state["problem"] = (
                    "peep-hook could not load inside pip ({}: {}), so pip cannot "
                    "check archive hashes. Reinstall peep-hook and wrapt into this "
                    "environment (or remove peep_hook.pth from {}); set PEEP_HOOK=off "
                    "to run one command unchecked.".format(type(exc).__name__, exc, HOME)
                )
    return _state["problem"]


def _check_layout(pip_module):
    location = os.path.dirname(getattr(pip_module, "__file__", None) or "")
    if location and not _has_file(
        pip_module, os.path.join(location, "_internal", "cli", "base_command.py")
    ):
        _refuse_by_argv("peep-hook does not know this pip's layout (no {})".format(
            _COMMAND_MODULE))


def _has_file(pip_module, path):
    if os.path.exists(path):
        return True
    # pip run from a wheel (ensurepip, get-pip): ask its zip importer.
    loader = getattr(getattr(pip_module, "__spec__", None), "loader", None)
    try:
        loader.get_data(path)
        return True
    except Exception:
        return False


def _refuse_by_argv(problem):
    # The last resort, when pip's command class is not where it has always been.
    if FETCHING_COMMANDS.intersection(sys.argv[1:]):
        sys.stderr.write(
            "ERROR: {}, so pip cannot check archive hashes. Use a pip that "
            "peep-hook supports, or set PEEP_HOOK=off to run one command "
            "unchecked.\n".format(problem)
        )
        raise SystemExit(1)


def _stop_watching():
    _state["watching"] = False
    try:
        sys.meta_path.remove(sys.modules[__name__])
    except (KeyError, ValueError):
        pass


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
