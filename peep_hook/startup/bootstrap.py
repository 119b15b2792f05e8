"""The bootstrap: loaded by the start-up trampoline (``_peep_hook_start``)
when pip is looked up, or by a global hook's sitecustomize at start-up.

It uses only ``sys`` and ``os``, touches no file and prints nothing. It waits
on ``sys.meta_path`` for two of pip's modules, or takes them from
``sys.modules`` if something imported pip before the hook started (an
earlier ``.pth`` file, a sitecustomize):

* ``pip._internal.cli.base_command``: it wraps ``Command._main``, and only
  when a pip command that fetches archives (``install``, ``download``,
  ``wheel``, ``lock``) has parsed its options does it load wrapt and the
  patches (:mod:`peep_hook.hook.targets`). So ``import pip``, ``pip
  --version``, ``pip list`` and ``--help`` pay nothing for them. Programs
  that call ``Command._main`` themselves get the same hook.
* ``pip._internal.operations.prepare``: the second line. Constructing a
  ``RequirementPreparer`` (nothing is fetched without one) loads the patches
  too, whoever does it; if they cannot load, pip's ``InstallationError``
  stops it. A preparer used outside a pip command (a program driving pip's
  internals itself) is then refused by the patches' guard, as pip's hash
  checking is not in force for it: :func:`command_started` says which case.
* ``setuptools.dist``, only below a protected pip run (:data:`BELOW_PIP_ENV`):
  setuptools older than 42 fetches ``setup_requires`` with easy_install,
  unhashed; :func:`_guard_build_eggs` refuses it.

Whatever loader brings these modules in (pip's own files, a wheel or .pyz
through zipimport, with ``exec_module`` or only the legacy ``load_module``),
the hook arms, or pip's fetching commands are refused.

Inside pip it fails closed: if the hook cannot load, every fetching command
stops with exit status 1. Outside pip it fails open: nothing here may raise.
"""

import os
import sys

# Where this copy of peep_hook (and, beside it, wrapt) lives. pip's build
# isolation removes site-packages from sys.path in its child processes before
# pip runs there, so the location is recorded now, at start-up.
HOME = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The facts below are defined here, the lowest layer, for every module that
# can import peep_hook. The two start-up files that cannot import it keep
# copies, proven equal by tests/test_sitecustomize.py: _start.py (the
# per-environment trampoline) and sitecustomize.py (the global hook's).

#: pip commands that fetch archives: the ones that must never run unchecked.
FETCHING_COMMANDS = frozenset({"install", "download", "wheel", "lock"})

#: The administrator's configuration file name, beside a global hook.
CONFIG_NAME = "peep-hook.ini"

#: The oldest pip peep-hook supports (peep_hook.core.pip_versions has the whole range).
OLDEST_PIP = (20, 3)

# Every pip command from 20.3 to 26.3 runs through Command._main in this module.
_COMMAND_MODULE = "pip._internal.cli.base_command"
# ... and every archive it fetches goes through a RequirementPreparer from this one.
_PREPARE_MODULE = "pip._internal.operations.prepare"
# virtualenv's seeders take every wheel they install from this one's get_wheel
# (under a global hook: peep_hook/startup/seeding.py).
_SEED_MODULE = "virtualenv.seed.wheels"
#: The modules whose lookup starts the hook: pip's, which the trampoline
#: watches, and virtualenv's, which only a global hook guards.
PIP_MODULES = ("pip", _COMMAND_MODULE, _PREPARE_MODULE)
WATCHED = PIP_MODULES + (_SEED_MODULE,)

#: Set by a protected pip run for every process below it (the value: its
#: policy mode). There setuptools' own fetching of build eggs is hooked too.
BELOW_PIP_ENV = "PEEP_HOOK_BELOW_PIP"
# ... through the Distribution class in this module (setup_requires and the like).
_SETUPTOOLS_MODULE = "setuptools.dist"

# armed: Command._main seen to (wrapped, or deliberately not); guarded: the
# same for RequirementPreparer.__init__; commands: pip commands running now
# that started through the hook.
_state = {"watching": False, "armed": False, "guarded": False, "loaded": False,
          "problem": None, "global_home": None, "commands": 0}


# This module is itself the meta path finder (importlib only needs a
# ``find_spec``): creating a class costs more at start-up than all the rest.
_busy = False


def find_spec(fullname, path=None, target=None):
    """Notice pip's modules as they are imported."""
    global _busy
    if _busy or not (fullname in WATCHED or (
            fullname == _SETUPTOOLS_MODULE and os.environ.get(BELOW_PIP_ENV))):
        return None
    _busy = True
    try:
        from importlib.util import find_spec as find_real_spec

        spec = find_real_spec(fullname)
    finally:
        _busy = False
    if spec is None or spec.loader is None:
        return spec
    if not _hook_loader(spec.loader, fullname):
        _cannot_arm("peep-hook cannot watch {} load ({} has neither a usable exec_module "
                    "nor load_module)".format(fullname, type(spec.loader).__name__))
    return spec


def _hook_loader(loader, name):
    """Have ``_loaded`` run once module ``name`` has executed; False if impossible.

    The loader may be shared by many modules (one ``zipimporter`` serves every
    module of a wheel or .pyz), so the hook lets other modules through and
    takes itself off the loader before running the module it waits for.
    Pythons before 3.10 load from a zip with the legacy ``load_module``.
    """
    for method in ("exec_module", "load_module"):
        original = getattr(loader, method, None)
        if original is not None:
            break
    else:
        return False
    own = getattr(loader, "__dict__", None)
    if not isinstance(own, dict):
        return False
    previous = own.get(method)
    fired = []

    # exec_module(module) or load_module(fullname): one wrapper for both.
    def hooked(module_or_name, *args, **kwargs):
        wanted = (module_or_name if isinstance(module_or_name, str)
                  else getattr(module_or_name, "__name__", None)) == name
        if fired or not wanted:
            return original(module_or_name, *args, **kwargs)
        # Once only; off the loader unless another hook went on top since.
        fired.append(True)
        if own.get(method) is hooked:
            if previous is None:
                own.pop(method, None)
            else:
                own[method] = previous
        result = original(module_or_name, *args, **kwargs)
        _loaded(module_or_name if method == "exec_module" else sys.modules.get(name, result))
        return result

    try:
        setattr(loader, method, hooked)
    except Exception:
        return False
    return True


def _loaded(module):
    name = getattr(module, "__name__", None)
    if name == _COMMAND_MODULE:
        _arm(module)
    elif name == _PREPARE_MODULE:
        _guard_preparer(module)
    elif name == "pip":
        _check_layout(module)
    elif name == _SETUPTOOLS_MODULE:
        _guard_build_eggs(module)
    elif name == _SEED_MODULE:
        _guard_seeding(module)


def start(global_home=None):
    """Arrange for the hook to load when pip runs. Idempotent; never raises.

    ``global_home`` is given by a global hook (a sitecustomize in the base
    interpreter): the private directory holding peep_hook, wrapt and the
    administrator's configuration.
    """
    try:
        if global_home:
            _state["global_home"] = global_home
        if _state["watching"]:
            return
        # pip may have been imported before the hook started (a .pth file
        # sorting before peep_hook.pth, a sitecustomize): arm at once.
        for name in WATCHED + (_SETUPTOOLS_MODULE,):
            module = sys.modules.get(name)
            if module is not None and not _initializing(module):
                _loaded(module)
        if not (_state["armed"] and _state["guarded"]):
            _state["watching"] = True
            sys.meta_path.insert(0, sys.modules[__name__])
    except Exception:
        pass


def _initializing(module):
    return getattr(getattr(module, "__spec__", None), "_initializing", False) is True


def command_started():
    """Whether a pip command that started through the hook is running now.

    False when pip's internals are driven by another program (pip-tools'
    pip-compile builds its own preparer): the hook never saw its options or
    its requirements files.
    """
    return _state["commands"] > 0


def program():
    """The program this process runs, named as its user would name it."""
    argv0 = (getattr(sys, "argv", None) or [""])[0]
    if argv0 in ("", "-c"):
        return "python -c"
    return os.path.basename(argv0)


def global_home():
    """The global hook's private directory, when a global hook started this."""
    return _state["global_home"]


def config_path():
    """The administrator's configuration file, when a global hook is in use."""
    home = _state["global_home"]
    return os.path.join(home, CONFIG_NAME) if home else None


def _switched_off():
    # Read when pip is imported, not at start-up, which must stay as cheap as
    # possible. An administrator's file may pin the policy: then it decides.
    return os.environ.get("PEEP_HOOK", "").strip().lower() == "off" and not (
        _state["global_home"] and os.path.exists(config_path())
    )


def _arm(module):
    """Wrap ``Command._main`` so that fetching commands load the hook first."""
    if _state["armed"]:
        return
    _state["armed"] = True
    _stop_watching_when_done()
    if _switched_off():
        return
    command = getattr(module, "Command", None)
    # _main, not main: programs driving pip in-process call _main themselves.
    name = "_main" if callable(getattr(command, "_main", None)) else "main"
    run = getattr(command, name, None)
    if run is None:
        _cannot_arm("peep-hook cannot find Command._main in this pip's {}".format(
            _COMMAND_MODULE))
        return
    run = _unwrapped_other_copy(run)
    if run is None:
        return  # armed by another copy of this module

    def run_with_hook(self, args):
        _state["commands"] += 1
        try:
            if getattr(self, "name", None) not in FETCHING_COMMANDS:
                return run(self, args)
            parse_args = getattr(self, "parse_args", None)
            if parse_args is None:
                problem = _load()
                if problem is not None:
                    sys.stderr.write("ERROR: {}\n".format(problem))
                    return 1
                return run(self, args)

            # Load once the options are parsed: ``--help`` (which exits in
            # parsing) costs nothing, and no argument can fake it.
            def parse_then_load(args):
                parsed = parse_args(args)
                problem = _load()
                if problem is not None:
                    sys.stderr.write("ERROR: {}\n".format(problem))
                    raise SystemExit(1)
                return parsed

            own = getattr(self, "__dict__", {})
            previous = own.get("parse_args")
            self.parse_args = parse_then_load
            try:
                return run(self, args)
            finally:
                if previous is None:
                    own.pop("parse_args", None)
                else:
                    own["parse_args"] = previous
        finally:
            _state["commands"] -= 1

    run_with_hook.__wrapped__ = run
    run_with_hook._peep_hook = HOME
    setattr(command, name, run_with_hook)


def _guard_preparer(module):
    """Wrap ``RequirementPreparer.__init__``: no preparer without the patches."""
    if _state["guarded"]:
        return
    _state["guarded"] = True
    _stop_watching_when_done()
    if _switched_off():
        return
    preparer = getattr(module, "RequirementPreparer", None)
    if not isinstance(preparer, type):
        return  # the patches find their own targets missing, and refuse
    init = _unwrapped_other_copy(preparer.__init__)
    if init is None:
        return  # guarded by another copy of this module

    def init_with_hook(self, *args, **kwargs):
        problem = _load()
        if problem is not None:
            error = getattr(sys.modules.get("pip._internal.exceptions"),
                            "InstallationError", None)
            # pip prints "ERROR: <problem>" and exits with status 1.
            raise error(problem) if error is not None else SystemExit("ERROR: " + problem)
        init(self, *args, **kwargs)

    init_with_hook.__wrapped__ = init
    init_with_hook._peep_hook = HOME
    init_with_hook.__doc__ = getattr(init, "__doc__", None)
    try:
        preparer.__init__ = init_with_hook
    except Exception:
        _cannot_arm("peep-hook cannot watch {}.RequirementPreparer".format(_PREPARE_MODULE))


def _is_global():
    """Whether this copy is a global hook's: the administrator's, in its home."""
    return _state["global_home"] == HOME


def _unwrapped_other_copy(function):
    """``function`` to wrap, or None if another copy's wrapper is to stay.

    A global hook's copy takes over from any other (an environment's own
    peep-hook that armed first): the administrator's policy code runs.
    """
    if not getattr(function, "_peep_hook", False):
        return function
    if _is_global() and function._peep_hook != HOME:
        return getattr(function, "__wrapped__", None)
    return None


def _guard_seeding(module):
    """Under a global hook, wrap virtualenv's ``get_wheel``: virtualenv seeds
    only its own embedded wheels, or those its ``download_wheel`` had this
    interpreter's pip, hooked, fetch (:mod:`peep_hook.startup.seeding`)."""
    get_wheel = getattr(module, "get_wheel", None)
    if not _is_global() or not callable(get_wheel) or getattr(get_wheel, "_peep_hook", False):
        return
    package = os.path.dirname(os.path.abspath(getattr(module, "__file__", None) or ""))

    def get_wheel_with_hook(*args, **kwargs):
        wheel = get_wheel(*args, **kwargs)
        path = getattr(wheel, "path", None)
        if path is not None:
            _seeding().check_seed_wheel(str(path), package, config_path())
        return wheel

    acquire = sys.modules.get(module.__name__ + ".acquire")
    download_wheel = getattr(acquire, "download_wheel", None)
    if callable(download_wheel):
        def download_wheel_with_hook(*args, **kwargs):
            wheel = download_wheel(*args, **kwargs)
            path = getattr(wheel, "path", None)
            if path is not None:
                _seeding().downloaded_by_pip(str(path))
            return wheel

        download_wheel_with_hook.__wrapped__ = download_wheel
        acquire.download_wheel = download_wheel_with_hook
    get_wheel_with_hook.__wrapped__ = get_wheel
    get_wheel_with_hook._peep_hook = HOME
    module.get_wheel = get_wheel_with_hook


def _seeding():
    _import_from_home("peep_hook.startup.seeding")
    return sys.modules["peep_hook.startup.seeding"]


def _load():
    """Load wrapt and the patches, once; return None, or what went wrong."""
    if not _state["loaded"] and _state["problem"] is None:
        _state["loaded"] = True
        try:
            _import_from_home("wrapt")
            _import_from_home("peep_hook.hook.targets")
            sys.modules["peep_hook.hook.targets"].activate(config_path=config_path())
        except Exception as exc:
            if type(exc).__name__ == "HookUnavailable":
                _state["problem"] = str(exc)
            elif _pip_older_than_supported():
                # Its internals differ, so the patches fail to import: say why.
                _state["problem"] = (
                    "peep-hook cannot protect pip {}: it is older than the oldest "
                    "supported ({}), so pip cannot check archive hashes. Upgrade pip "
                    "(with hashes for it), or set PEEP_HOOK=off to run one command "
                    "unchecked.".format(_pip_version(), ".".join(map(str, OLDEST_PIP)))
                )
            else:
                _state["problem"] = (
                    "peep-hook could not load inside pip ({}: {}), so pip cannot "
                    "check archive hashes. Reinstall peep-hook and wrapt into this "
                    "environment (or remove peep_hook.pth from {}); set PEEP_HOOK=off "
                    "to run one command unchecked.".format(type(exc).__name__, exc, HOME)
                )
    return _state["problem"]


def _pip_version():
    return str(getattr(sys.modules.get("pip"), "__version__", "") or "unknown")


def _pip_older_than_supported():
    numbers = []
    for part in (_pip_version().split(".") + ["0"])[:2]:
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            return False  # not a version we can read: say what failed instead
        numbers.append(int(digits))
    return tuple(numbers) < OLDEST_PIP


def _check_layout(pip_module):
    location = os.path.dirname(getattr(pip_module, "__file__", None) or "")
    if location and not _has_file(
        pip_module, os.path.join(location, "_internal", "cli", "base_command.py")
    ):
        _cannot_arm("peep-hook does not know this pip's layout (no {})".format(
            _COMMAND_MODULE))


def _has_file(pip_module, path):
    if os.path.exists(path):
        return True
    # pip run from a wheel or .pyz (ensurepip, get-pip): ask its zip importer.
    for loader in (getattr(getattr(pip_module, "__spec__", None), "loader", None),
                   getattr(pip_module, "__loader__", None)):
        try:
            loader.get_data(path)
            return True
        except Exception:
            pass
    return False


def _cannot_arm(problem):
    """The hook cannot be put in place: refuse, now or when pip would fetch."""
    message = (
        "{}, so pip cannot check archive hashes. Use a pip that peep-hook "
        "supports, or set PEEP_HOOK=off to run one command unchecked.".format(problem)
    )
    if _switched_off():
        return
    if _state["problem"] is None:
        _state["problem"] = message  # any preparer constructed later is refused
    # The last resort, when pip's command class is not where it has always been.
    if FETCHING_COMMANDS.intersection(getattr(sys, "argv", [])[1:]):
        sys.stderr.write("ERROR: {}\n".format(message))
        raise SystemExit(1)


def _stop_watching_when_done():
    if not (_state["armed"] and _state["guarded"]):
        return
    _state["watching"] = False
    try:
        sys.meta_path.remove(sys.modules[__name__])
    except (KeyError, ValueError):
        pass


def _import_from_home(name):
    """Import ``name``, looking in HOME too: build children drop it from sys.path.

    A global hook's copy imports from HOME alone (:func:`_import_private`).
    """
    if _is_global():
        _import_private(name)
        return
    try:
        __import__(name)
    except ImportError:
        sys.path.insert(0, HOME)
        try:
            __import__(name)
        finally:
            sys.path.remove(HOME)


# -- setuptools' own fetching, below a protected pip run ---------------------------


def _guard_build_eggs(module):
    """Wrap ``Distribution.fetch_build_egg`` below a protected pip run.

    setuptools 42 and newer fetch build eggs (``setup_requires``) with
    ``pip wheel``, which is hooked. Older ones use easy_install, which
    downloads from any index (the sdist's own setup.cfg may name one) and runs
    what it gets, with no hash: refused (reported, under the warn policy).
    """
    mode = os.environ.get(BELOW_PIP_ENV, "").strip().lower()
    if not mode or _switched_off():
        return
    fetch = getattr(getattr(module, "Distribution", None), "fetch_build_egg", None)
    if fetch is None or getattr(fetch, "_peep_hook", False) or _fetches_with_pip():
        return

    def fetch_with_hook(self, req):
        version = getattr(sys.modules.get("setuptools"), "__version__", "older than 42")
        name = getattr(req, "project_name", None) or str(req)
        message = (
            "peep-hook: setuptools {} would fetch {} (setup_requires of the project "
            "being built) with easy_install, which checks no hashes, below a pip run "
            "that requires them. Install {} first, from a requirements file that pins "
            "it with its hashes (peep-hook fill adds them): setuptools then finds it "
            "installed and fetches nothing.".format(version, req, name))
        if mode == "warn":
            sys.stderr.write("WARNING: {}\n(peep-hook policy is warn: strict would stop "
                             "here; going on.)\n".format(message))
            return fetch(self, req)
        # Not a distutils error: setup() has not started, so it would be a traceback.
        raise SystemExit("ERROR: " + message)

    fetch_with_hook.__wrapped__ = fetch
    fetch_with_hook._peep_hook = True
    try:
        module.Distribution.fetch_build_egg = fetch_with_hook
    except Exception:
        pass


def _fetches_with_pip():
    try:
        from importlib.util import find_spec as find_real_spec

        return find_real_spec("setuptools.installer") is not None
    except Exception:
        return False
def _import_private(name):
    """Import ``name`` from HOME alone, whatever sys.path and sys.modules hold:
    an environment's own peep_hook or wrapt never stands in for the
    administrator's. Another copy already imported is set aside (its
    modules stay with those who hold them)."""
    top = name.partition(".")[0]
    where = os.path.join(HOME, top)
    me = sys.modules[__name__]
    if getattr(sys.modules.get(top), "__path__", None) != [where]:
        for key in [k for k in sys.modules if k == top or k.startswith(top + ".")]:
            if sys.modules[key] is not me:
                del sys.modules[key]
        from importlib.util import module_from_spec, spec_from_file_location

        spec = spec_from_file_location(top, os.path.join(where, "__init__.py"),
                                       submodule_search_locations=[where])
        package = module_from_spec(spec)
        sys.modules[top] = package
        try:
            spec.loader.exec_module(package)
        except BaseException:
            sys.modules.pop(top, None)
            raise
    # This module stays in sys.modules under its own name, so that
    # ``from peep_hook.startup import bootstrap`` finds it, never a second copy.
    __import__(name)
