"""The global hook's sitecustomize (peep_hook/startup/sitecustomize.py), in process.

Its functions run here on fake stdlib directories, with ``sys.meta_path`` and
``sys.modules`` restored afterwards; one case runs it in a fresh Python with a
stand-in pip. tests/test_global.py runs it in real interpreters and venvs.
It cannot import peep_hook, and the start-up trampoline imports only sys: the
facts they copy from the bootstrap are proven equal here.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

import peep_hook
from peep_hook.commands import global_hook
from peep_hook.startup import bootstrap
from peep_hook.startup import sitecustomize as hook_file

PACKAGE = Path(peep_hook.__file__).resolve().parent

# A bootstrap that records how it is started and answers every lookup.
FAKE_BOOTSTRAP = """\
started = []
def start(global_home=None):
    started.append(global_home)
def find_spec(fullname, path=None, target=None):
    return "spec of " + fullname
"""


@pytest.fixture
def isolated(monkeypatch):
    """sys.meta_path and the modules the hook looks at, restored afterwards;
    as at start-up, neither pip nor a bootstrap is imported."""
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    for name in ("pip", hook_file.PEEP_HOOK_BOOTSTRAP):
        monkeypatch.delitem(sys.modules, name, raising=False)
    for name in ("PEEP_HOOK", hook_file.PEEP_HOOK_BELOW_PIP):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def make_home(stdlib: Path, bootstrap: str) -> Path:
    home = stdlib / hook_file.PEEP_HOOK_HOME
    source = home.joinpath(*hook_file.PEEP_HOOK_BOOTSTRAP_FILE)
    source.parent.mkdir(parents=True)
    source.write_text(bootstrap)
    return home


def top_level_constants(path: Path) -> Dict[str, Any]:
    """A module's literal assignments, read without running it."""
    constants = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return constants


# -- one definition of each fact ---------------------------------------------------


def test_the_global_sitecustomize_copies_the_bootstraps_facts():
    assert hook_file.PEEP_HOOK_WATCHED == bootstrap.WATCHED
    assert frozenset(hook_file.PEEP_HOOK_FETCHING) == bootstrap.FETCHING_COMMANDS
    assert hook_file.PEEP_HOOK_COMMAND_MODULE == bootstrap._COMMAND_MODULE
    assert hook_file.PEEP_HOOK_BELOW_PIP == bootstrap.BELOW_PIP_ENV


def test_the_global_sitecustomize_names_the_bootstraps_module_and_file():
    assert hook_file.PEEP_HOOK_BOOTSTRAP == bootstrap.__name__
    assert (PACKAGE.parent.joinpath(*hook_file.PEEP_HOOK_BOOTSTRAP_FILE)
            == Path(bootstrap.__file__).resolve())


def test_the_start_up_trampoline_copies_the_bootstraps_facts():
    # Read, not imported: importing it would put it on sys.meta_path.
    start = top_level_constants(PACKAGE / "_start.py")

    assert start["_WATCHED"] == bootstrap.PIP_MODULES
    assert frozenset(start["_FETCHING"]) == bootstrap.FETCHING_COMMANDS
    assert start["_BELOW_PIP_ENV"] == bootstrap.BELOW_PIP_ENV


def test_the_module_starts_with_the_marker_enable_and_disable_look_for():
    assert global_hook.sitecustomize_source().startswith(global_hook.MARKER.encode())


def test_enable_copies_the_module_byte_for_byte(tmp_path):
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    wrapt = tmp_path / "src" / "wrapt"
    wrapt.mkdir(parents=True)
    (wrapt / "__init__.py").write_text("STAND_IN = True\n")

    global_hook.enable(str(stdlib), sources={"peep_hook": str(PACKAGE), "wrapt": str(wrapt)})

    assert (stdlib / "sitecustomize.py").read_bytes() == Path(hook_file.__file__).read_bytes()


def test_under_any_other_name_the_module_only_defines_its_functions(isolated):
    import runpy

    before = list(sys.meta_path)
    namespace = runpy.run_path(hook_file.__file__, run_name="peep_hook.startup.sitecustomize")

    assert sys.meta_path == before
    assert callable(namespace["_peep_hook_main"])


# -- start-up: the previous file, then a watch for pip ---------------------------------


def test_paths_are_found_beside_the_file_and_without_a_previous_file_none(tmp_path):
    home, saved = hook_file._peep_hook_paths(str(tmp_path / "sitecustomize.py"))

    assert (home, saved) == (str(tmp_path / "peep-hook"), None)


def test_a_saved_symlink_resolves_from_the_stdlib_where_it_stood(tmp_path):
    stdlib = tmp_path / "lib" / "python3"
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "sitecustomize.py").write_text("# Debian's\n")
    saved_dir = stdlib / "peep-hook" / "saved-sitecustomize"
    saved_dir.mkdir(parents=True)
    os.symlink("../../etc/sitecustomize.py", saved_dir / "sitecustomize.py")

    home, saved = hook_file._peep_hook_paths(str(stdlib / "sitecustomize.py"))

    assert saved is not None and Path(saved).read_text() == "# Debian's\n"


def _stdlib_with_previous(tmp_path: Path, text: str) -> Path:
    saved_dir = tmp_path / "peep-hook" / "saved-sitecustomize"
    saved_dir.mkdir(parents=True)
    (saved_dir / "sitecustomize.py").write_text(text)
    return tmp_path / "sitecustomize.py"


def test_the_previous_file_runs_in_the_modules_namespace_then_the_watch_starts(
        tmp_path, isolated):
    file = _stdlib_with_previous(tmp_path, "from __future__ import annotations\nsite_own = 1\n")
    watched: List[Any] = []
    isolated.setattr(hook_file, "_peep_hook_watch_for_pip", watched.append)
    namespace: Dict[str, Any] = {"__file__": str(file)}

    hook_file._peep_hook_main(namespace)

    assert namespace["site_own"] == 1
    assert watched == [str(tmp_path / "peep-hook")]


def test_the_watch_starts_even_when_the_previous_file_raises(tmp_path, isolated):
    file = _stdlib_with_previous(tmp_path, "raise RuntimeError('its own error')\n")
    watched: List[Any] = []
    isolated.setattr(hook_file, "_peep_hook_watch_for_pip", watched.append)

    with pytest.raises(RuntimeError, match="its own error"):
        hook_file._peep_hook_main({"__file__": str(file)})

    assert watched == [str(tmp_path / "peep-hook")]


def test_chained_from_pips_build_environment_the_previous_file_is_left_out(tmp_path, isolated):
    file = _stdlib_with_previous(tmp_path, "site_own = 1\n")
    isolated.setattr(hook_file, "_peep_hook_watch_for_pip", lambda home: None)
    namespace: Dict[str, Any] = {"__file__": str(file), "_peep_hook_chained": True}

    hook_file._peep_hook_main(namespace)

    assert "site_own" not in namespace


def test_the_watch_hands_over_on_the_first_lookup_of_a_watched_module(tmp_path, isolated):
    handed: List[Any] = []
    isolated.setattr(hook_file, "_peep_hook_hand_over",
                     lambda home, *lookup: handed.append((home, *lookup)) or "spec")

    hook_file._peep_hook_watch_for_pip(str(tmp_path))
    watch = sys.meta_path[0]

    assert (watch.__name__, watch.home) == ("_peep_hook_global_watch", str(tmp_path))
    assert watch.find_spec("json") is None and handed == []
    assert watch.find_spec("pip", None, None) == "spec"
    assert handed == [(str(tmp_path), "pip", None, None)]
    assert watch not in sys.meta_path


@pytest.mark.parametrize("already", ["pip", "bootstrap", "below-pip"])
def test_the_watch_hands_over_at_once_when_pip_or_a_hook_came_first(tmp_path, isolated,
                                                                     already):
    if already == "below-pip":
        isolated.setenv(hook_file.PEEP_HOOK_BELOW_PIP, "strict")
    else:
        name = "pip" if already == "pip" else hook_file.PEEP_HOOK_BOOTSTRAP
        isolated.setitem(sys.modules, name, type(sys)(name))
    handed: List[Any] = []
    isolated.setattr(hook_file, "_peep_hook_hand_over", lambda *args: handed.append(args))
    before = list(sys.meta_path)

    hook_file._peep_hook_watch_for_pip(str(tmp_path))

    assert handed == [(str(tmp_path),)] and sys.meta_path == before


# -- handing over to the administrator's bootstrap ----------------------------------


def test_hand_over_starts_the_administrators_bootstrap_and_returns_its_answer(
        tmp_path, isolated):
    home = make_home(tmp_path, FAKE_BOOTSTRAP)

    spec = hook_file._peep_hook_hand_over(str(home), "pip")

    bootstrap = sys.modules[hook_file.PEEP_HOOK_BOOTSTRAP]
    assert spec == "spec of pip"
    assert bootstrap.started == [str(home)]
    assert bootstrap.__file__ == global_hook.bootstrap_file(str(home))


def test_hand_over_replaces_an_environments_own_bootstrap(tmp_path, isolated):
    home = make_home(tmp_path, FAKE_BOOTSTRAP)
    own = type(sys)(hook_file.PEEP_HOOK_BOOTSTRAP)
    own.__file__ = str(tmp_path / "venv" / "peep_hook" / "startup" / "bootstrap.py")
    isolated.setitem(sys.modules, hook_file.PEEP_HOOK_BOOTSTRAP, own)

    hook_file._peep_hook_hand_over(str(home))

    assert sys.modules[hook_file.PEEP_HOOK_BOOTSTRAP].started == [str(home)]


def test_a_bootstrap_that_cannot_load_leaves_a_guard_and_no_module(tmp_path, isolated):
    home = make_home(tmp_path, "raise ImportError('half gone')\n")

    assert hook_file._peep_hook_hand_over(str(home), "pip") is None

    assert hook_file.PEEP_HOOK_BOOTSTRAP not in sys.modules
    assert type(sys.meta_path[0]).__name__ == "PeepHookGuard"


# -- the guard: fail closed inside pip -------------------------------------------------


def test_the_message_names_the_directory_the_error_and_the_repairs():
    message = hook_file._peep_hook_message("/usr/lib/python3/peep-hook",
                                           FileNotFoundError("no bootstrap"))

    assert message.startswith("ERROR: peep-hook's global hook in /usr/lib/python3/peep-hook "
                              "could not start (FileNotFoundError: no bootstrap)")
    assert "enable --global" in message and "PEEP_HOOK=off" in message
    assert message.endswith("\n")


def test_the_guard_lets_other_modules_through(isolated):
    guard = hook_file._peep_hook_guard("refused\n")

    assert sys.meta_path[0] is guard
    assert guard.find_spec("json") is None


def test_no_guard_under_peep_hook_off(isolated):
    isolated.setenv("PEEP_HOOK", " Off ")
    before = list(sys.meta_path)

    assert hook_file._peep_hook_guard("refused\n") is None
    assert sys.meta_path == before


def test_pips_fetching_commands_are_refused_and_the_others_run(capsys):
    class Command:
        def __init__(self, name: str) -> None:
            self.name = name

        def main(self, args: List[str]) -> int:
            return 0

    hook_file._peep_hook_refuse_fetching(Command, "refused\n")

    assert [Command(name).main([]) for name in ("install", "download", "wheel", "lock")] == [1] * 4
    assert capsys.readouterr().err == "refused\n" * 4
    assert Command("list").main([]) == 0 and capsys.readouterr().err == ""


# A stand-in for pip's command module, for a fresh Python.
STAND_IN_PIP = {
    "__init__.py": "",
    "_internal/__init__.py": "",
    "_internal/cli/__init__.py": "",
    "_internal/cli/base_command.py": (
        "class Command:\n"
        "    def __init__(self, name):\n        self.name = name\n"
        "    def main(self, args):\n        return 0\n"),
}


def test_without_its_directory_the_file_refuses_pips_fetching_commands_alone(tmp_path):
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    (stdlib / "sitecustomize.py").write_bytes(global_hook.sitecustomize_source())
    for name, text in STAND_IN_PIP.items():
        path = tmp_path / "fake" / "pip" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    code = (f"import runpy, sys; runpy.run_path({str(stdlib / 'sitecustomize.py')!r}, "
            "run_name='sitecustomize')\n"
            f"sys.path.insert(0, {str(tmp_path / 'fake')!r})\n"
            "from pip._internal.cli.base_command import Command\n"
            "print(Command('list').main([]), Command('install').main([]))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEEP_HOOK")}
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60)

    assert result.stdout == "0 1\n", result
    assert result.stderr.startswith(
        f"ERROR: peep-hook's global hook in {stdlib / 'peep-hook'} could not start "
        "(FileNotFoundError: "), result
