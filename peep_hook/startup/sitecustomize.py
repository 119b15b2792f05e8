# peep-hook global hook (copied by "peep-hook enable --global"; do not edit).
"""The global hook's ``sitecustomize.py``, as ``enable --global`` copies it, byte
for byte, into an interpreter's standard library directory.

It runs the ``sitecustomize.py`` it replaced (kept in
``peep-hook/saved-sitecustomize/``), then waits for pip: when pip is looked up,
it loads peep-hook's stdlib-only bootstrap from the file in ``peep-hook/``
beside it, without putting that directory on sys.path, and hands over; wrapt
and the patches load once pip runs a fetching command. If the bootstrap cannot
load, pip's fetching commands are refused (fail closed inside pip); nothing
else is touched and nothing here prints or raises (fail open outside it). The
previous file's errors are its own. ``disable --global`` restores that file.

Start-up code: standard library only, nothing imported at start-up that
Python has not imported already. It finds everything from its own
``__file__`` at run time, so the copy needs no templating. It cannot import
peep_hook (not importable where it runs, and an environment's copy must
never stand in for the administrator's), so it keeps its own copies of the
bootstrap's facts below; tests/test_sitecustomize.py proves them equal.

The previous file runs in this module's namespace, as it did when it was the
sitecustomize. So that neither clobbers the other, every name here but
TYPE_CHECKING starts with ``_peep_hook``/``PEEP_HOOK``, and the functions
import what they use inside themselves.
Imported under any other name than ``sitecustomize`` (``peep_hook.startup.sitecustomize``
by ``enable`` and the tests), it only defines them.
"""

# The type checker's idiom without importing typing at start-up (mypy reads
# any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, Dict, Optional, Tuple

#: The private directory beside this file (a name that cannot be imported),
#: and what it holds: the bootstrap, and the previous sitecustomize.py.
PEEP_HOOK_HOME = "peep-hook"
PEEP_HOOK_BOOTSTRAP = "peep_hook.startup.bootstrap"
PEEP_HOOK_BOOTSTRAP_FILE = ("peep_hook", "startup", "bootstrap.py")
PEEP_HOOK_SAVED = ("saved-sitecustomize", "sitecustomize.py")

# Copies of peep_hook.startup.bootstrap's facts (this file cannot import it):
#: WATCHED: the modules whose lookup starts the bootstrap.
PEEP_HOOK_WATCHED = ("pip", "pip._internal.cli.base_command",
                     "pip._internal.operations.prepare", "virtualenv.seed.wheels")
#: _COMMAND_MODULE and FETCHING_COMMANDS: what the guard refuses.
PEEP_HOOK_COMMAND_MODULE = "pip._internal.cli.base_command"
PEEP_HOOK_FETCHING = ("install", "download", "wheel", "lock")
#: BELOW_PIP_ENV: below a protected pip the bootstrap watches setuptools too.
PEEP_HOOK_BELOW_PIP = "PEEP_HOOK_BELOW_PIP"


def _peep_hook_main(namespace: "Dict[str, Any]") -> None:
    """Run the previous sitecustomize.py in ``namespace``, then wait for pip."""
    try:
        home, saved = _peep_hook_paths(str(namespace["__file__"]))
    except Exception:
        home, saved = None, None
    try:
        # Not where pip's build environment runs this from its own file
        # (hook/build_isolation.py): pip's isolation leaves the previous file
        # out, as without the hook.
        if saved is not None and not namespace.get("_peep_hook_chained"):
            _peep_hook_run_previous(saved, namespace)
    finally:
        _peep_hook_watch_for_pip(home)


def _peep_hook_paths(file: str) -> "Tuple[str, Optional[str]]":
    """The private directory beside ``file``, and the previous sitecustomize.py
    kept there (None if there was none)."""
    import os

    here = os.path.dirname(os.path.abspath(file))
    home = os.path.join(here, PEEP_HOOK_HOME)
    saved = os.path.join(home, *PEEP_HOOK_SAVED)
    if os.path.islink(saved):
        # A symlink (Debian's points into /etc): resolve it from here, where it was.
        saved = os.path.join(here, os.readlink(saved))
    return home, (saved if os.path.isfile(saved) else None)


def _peep_hook_run_previous(saved: str, namespace: "Dict[str, Any]") -> None:
    with open(saved, "rb") as file:
        code = compile(file.read(), saved, "exec", dont_inherit=True)
    exec(code, namespace)


def _peep_hook_watch_for_pip(home: "Optional[str]") -> None:
    """Wait for pip on sys.meta_path: Python processes that never look pip up
    load nothing more of peep-hook. The watcher is a bare module object
    (cheaper to make than a class) whose find_spec hands over."""
    import os
    import sys

    if ("pip" in sys.modules or PEEP_HOOK_BOOTSTRAP in sys.modules
            or PEEP_HOOK_BELOW_PIP in os.environ):
        # pip, or a per-environment hook, came first; or below a protected
        # pip, where the bootstrap watches setuptools from the start.
        _peep_hook_hand_over(home)
        return
    watch: Any = type(sys)("_peep_hook_global_watch")

    def find_spec(fullname: str, path: object = None, target: object = None) -> object:
        if fullname not in PEEP_HOOK_WATCHED:
            return None
        try:
            sys.meta_path.remove(watch)
        except ValueError:
            pass
        return _peep_hook_hand_over(home, fullname, path, target)

    watch.find_spec = find_spec
    watch.home = home  # what `peep-hook status` reports before pip is looked up
    sys.meta_path.insert(0, watch)


def _peep_hook_hand_over(home: "Optional[str]", fullname: "Optional[str]" = None,
                         path: object = None, target: object = None) -> object:
    """Start the bootstrap; for a lookup of ``fullname``, return its answer.
    If the bootstrap cannot start, guard pip instead."""
    try:
        if home is None:
            raise FileNotFoundError("the global hook's directory cannot be found")
        bootstrap = _peep_hook_load_bootstrap(home)
        bootstrap.start(global_home=home)
        return bootstrap.find_spec(fullname, path, target) if fullname else None
    except Exception as exc:
        error = exc
    try:
        guard = _peep_hook_guard(_peep_hook_message(home, error))
        return guard.find_spec(fullname, path, target) if guard and fullname else None
    except Exception:
        return None


def _peep_hook_load_bootstrap(home: str) -> "ModuleType":
    """The administrator's bootstrap, from its file in ``home``. Never an
    environment's own copy (its per-environment hook may have handed over
    first): ours takes over from it."""
    import os
    import sys

    source = os.path.join(home, *PEEP_HOOK_BOOTSTRAP_FILE)
    module = sys.modules.get(PEEP_HOOK_BOOTSTRAP)
    if module is not None and getattr(module, "__file__", None) == source:
        return module
    try:  # the import system's own modules, always loaded: no import cost
        spec = sys.modules["_frozen_importlib_external"].spec_from_file_location(
            PEEP_HOOK_BOOTSTRAP, source)
        module = sys.modules["_frozen_importlib"].module_from_spec(spec)
    except (KeyError, AttributeError):
        from importlib.util import module_from_spec, spec_from_file_location

        spec = spec_from_file_location(PEEP_HOOK_BOOTSTRAP, source)
        module = module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[PEEP_HOOK_BOOTSTRAP] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[PEEP_HOOK_BOOTSTRAP]
        raise
    return module


def _peep_hook_message(home: "Optional[str]", error: BaseException) -> str:
    return (f"ERROR: peep-hook's global hook in {home} could not start "
            f"({type(error).__name__}: {error}), so pip cannot check archive hashes. "
            "An administrator can repair it with 'python -m peep_hook enable --global' "
            "or remove it with 'disable --global'; set PEEP_HOOK=off to run one "
            "command unchecked.\n")


def _peep_hook_guard(message: str) -> "Any":
    """Fail closed inside pip: put a finder on sys.meta_path that makes pip's
    fetching commands print ``message`` and exit 1. None under PEEP_HOOK=off.
    The class is made here, only when needed: start-up makes none."""
    import os
    import sys

    if os.environ.get("PEEP_HOOK", "").strip().lower() == "off":
        return None

    class PeepHookGuard:
        busy = False

        def find_spec(self, name: str, path: object = None, target: object = None) -> object:
            if name != PEEP_HOOK_COMMAND_MODULE or self.busy:
                return None
            self.busy = True
            try:
                from importlib.util import find_spec

                spec = find_spec(name)
            finally:
                self.busy = False
            load = getattr(spec and spec.loader, "exec_module", None)
            if spec is None or load is None:
                return None

            def exec_module(module: "Any") -> None:
                load(module)
                _peep_hook_refuse_fetching(module.Command, message)

            spec.loader.exec_module = exec_module  # type: ignore[union-attr, method-assign]
            return spec

    guard = PeepHookGuard()
    sys.meta_path.insert(0, guard)  # type: ignore[arg-type]
    return guard


def _peep_hook_refuse_fetching(command: "Any", message: str) -> None:
    """pip's ``Command.main`` prints ``message`` and returns 1 for the commands
    that fetch archives; it runs the others as before."""
    import sys

    main = command.main

    def guarded(self: object, args: object) -> object:
        if getattr(self, "name", None) in PEEP_HOOK_FETCHING:
            sys.stderr.write(message)
            return 1
        return main(self, args)

    command.main = guarded


if __name__ == "sitecustomize":
    _peep_hook_main(globals())
