"""The global hook (``enable --global``, ``disable --global``, ``status``).

The interpreter running these tests is never changed. The first tests work on
fake stdlib directories in process. The scenario copies the base interpreter
(binary, libpython, stdlib without site-packages contents), gives it a
Debian-style ``sitecustomize.py`` (a symlink into its own ``etc/``), enables
the hook with peep-hook and wrapt installed only in a ``--target`` directory
(on PYTHONPATH for the enable command alone), makes a ``python -m venv``
before and one after enabling and a ``virtualenv`` after, exercises them, and
disables the hook again. It runs once per test session (under pytest-xdist,
once for all workers), recording what it saw; each test below checks part of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import py_compile
import re
import stat
import subprocess
import sys
from importlib.util import cache_from_source
from pathlib import Path
from typing import Any, Dict

import pytest

from peep_hook.commands import cli, global_hook
from tests._support.archives import tampered, wheel
from tests._support.index import Index
from tests._support.interpreters import (
    VERSION,
    copy_base_interpreter,
    enable_global_hook,
    install_hook_into,
    stdlib_of,
)
from tests._support.nested import publish_nested_pip_project
from tests._support.outcomes import imported_modules
from tests._support.shared import once_per_run
from tests._support.venvs import pip_wheel_in, run

ROOT = Path(__file__).resolve().parent.parent

# The pre-existing sitecustomize.py: counts its runs, so that running twice
# (a hook chained to itself) or not at all shows.
ORIGINAL_SITECUSTOMIZE = (
    "import sys\n"
    "sys.peep_hook_test_original_runs = getattr(sys, 'peep_hook_test_original_runs', 0) + 1\n"
)

# What a process of an environment shows about the hook, as JSON.
# What start-up left (a hook waiting for pip, nothing heavy), then what
# looking pip up starts (the bootstrap, and from where).
PROBE = """\
import json, sys
from importlib.util import find_spec
facts = {
    "original_runs": getattr(sys, "peep_hook_test_original_runs", 0),
    "watching": any(getattr(f, "__name__", None) in ("_peep_hook_global_watch", "_peep_hook_start")
                    for f in sys.meta_path),
    "guards": [type(f).__name__ for f in sys.meta_path if "Guard" in type(f).__name__],
    "peep_on_path": [p for p in sys.path if "peep" in p.lower() or "target" in p],
    "heavy_modules": sorted(m for m in sys.modules
                            if m.split(".")[0] in ("pip", "wrapt") or m.startswith("peep_hook")),
}
facts["wrapt_importable"] = find_spec("wrapt") is not None
facts["peep_hook_importable"] = find_spec("peep_hook") is not None
find_spec("pip")
boot = sys.modules.get("peep_hook.startup.bootstrap")
facts["bootstrap_file"] = getattr(boot, "__file__", None)
facts["global_home"] = getattr(boot, "_state", {}).get("global_home")
print(json.dumps(facts))
"""


# -- fake stdlib directories, in process --------------------------------------------


@pytest.fixture
def sources(tmp_path: Path) -> Dict[str, str]:
    """peep_hook from this checkout, and a stand-in wrapt (the tox env has none)."""
    wrapt = tmp_path / "src" / "wrapt"
    wrapt.mkdir(parents=True)
    (wrapt / "__init__.py").write_text("STAND_IN = True\n")
    return {"peep_hook": str(ROOT / "peep_hook"), "wrapt": str(wrapt)}


def snapshot(top: Path) -> Dict[str, Any]:
    """Everything about a tree that a restore must bring back (lstat, no follow)."""
    seen: Dict[str, Any] = {}
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(root, name)
            info = path.lstat()
            rel = str(path.relative_to(top))
            if stat.S_ISLNK(info.st_mode):
                seen[rel] = ("symlink", os.readlink(path), info.st_ino)
            elif stat.S_ISDIR(info.st_mode):
                seen[rel] = ("dir", stat.S_IMODE(info.st_mode))
            else:
                seen[rel] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode),
                             info.st_mtime_ns, info.st_ino)
    return seen


def test_enable_twice_then_disable_restores_a_regular_sitecustomize_exactly(tmp_path, sources):
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    (stdlib / "os.py").write_text("# stands for the stdlib\n")
    previous = stdlib / "sitecustomize.py"
    previous.write_bytes(b"# the site's own\nimport sys\nsys.site_own = 1\n")
    previous.chmod(0o640)
    os.utime(previous, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    py_compile.compile(str(previous), cfile=cache_from_source(str(previous)), doraise=True)
    before = snapshot(stdlib)

    global_hook.enable(str(stdlib), sources=sources)

    saved = stdlib / "peep-hook" / "saved-sitecustomize" / "sitecustomize.py"
    assert previous.read_text().startswith(global_hook.MARKER)
    assert saved.read_bytes() == before["sitecustomize.py"][1]
    assert saved.stat().st_ino == before["sitecustomize.py"][4]  # the same file
    kept_bytecode = list((saved.parent / "pycache").iterdir())
    assert [p.name for p in kept_bytecode] == [Path(cache_from_source(str(previous))).name]
    assert (stdlib / "peep-hook" / "peep_hook" / "startup" / "bootstrap.py").is_file()
    assert (stdlib / "peep-hook" / "wrapt" / "__init__.py").read_text() == "STAND_IN = True\n"
    detection = global_hook.detect(str(stdlib))
    assert (detection.enabled, detection.saved, detection.problems) == (True, "file", [])
    ours = previous.read_bytes()

    again = global_hook.enable(str(stdlib), sources=sources)

    assert again.enabled
    assert previous.read_bytes() == ours  # not chained to itself:
    assert saved.read_bytes() == before["sitecustomize.py"][1]  # the previous one is still kept

    global_hook.disable(str(stdlib))

    assert snapshot(stdlib) == before  # bytes, mode, mtime, inode, bytecode; nothing added
    lines = []
    assert not global_hook.disable(str(stdlib), say=lines.append).enabled
    assert lines == ["the global hook was not enabled; nothing to do"]
    assert snapshot(stdlib) == before


def test_disable_leaves_no_trace_where_there_was_no_sitecustomize(tmp_path, sources):
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    (stdlib / "os.py").write_text("# stands for the stdlib\n")
    before = snapshot(stdlib)  # no __pycache__ either

    detection = global_hook.enable(str(stdlib), sources=sources, policy="warn",
                                  audit_log="/var/log/peep-hook.jsonl")

    assert detection.enabled and detection.saved is None
    assert Path(cache_from_source(str(stdlib / "sitecustomize.py"))).is_file()
    config = (stdlib / "peep-hook" / "peep-hook.ini").read_text()
    assert "policy = warn" in config and "audit_log = /var/log/peep-hook.jsonl" in config

    global_hook.disable(str(stdlib))

    assert snapshot(stdlib) == before


def test_a_sitecustomize_replaced_after_enabling_is_left_alone_by_disable(tmp_path, sources):
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    global_hook.enable(str(stdlib), sources=sources)
    (stdlib / "sitecustomize.py").write_text("# installed later by someone else\n")

    detection = global_hook.detect(str(stdlib))
    assert not detection.enabled
    assert "is not peep-hook's" in detection.problems[0]

    global_hook.disable(str(stdlib))

    assert (stdlib / "sitecustomize.py").read_text() == "# installed later by someone else\n"
    assert not (stdlib / "peep-hook").exists()


def _run_generated(sitecustomize: Path, then: str) -> subprocess.CompletedProcess:
    """Run the generated file as site would, then ``then``, in a fresh process."""
    code = (f"import runpy, sys; runpy.run_path({str(sitecustomize)!r}, "
            f"run_name='sitecustomize')\n{then}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PEEP_HOOK"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120)


def test_generated_sitecustomize_fails_closed_inside_pip_when_its_directory_is_gone(
        tmp_path, sources):
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    global_hook.enable(str(stdlib), sources=sources)
    os.rename(stdlib / "peep-hook" / "peep_hook", tmp_path / "moved-away")
    download = ("from pip._internal.cli.main import main\n"
                f"sys.exit(main(['download', '--no-index', '-d', {str(tmp_path)!r}, 'x']))")

    refused = _run_generated(stdlib / "sitecustomize.py", download)
    plain = _run_generated(stdlib / "sitecustomize.py", "print('ok')")
    listing = _run_generated(stdlib / "sitecustomize.py",
                             "from pip._internal.cli.main import main\n"
                             "sys.exit(main(['--version']))")

    assert refused.returncode == 1, refused
    assert "global hook in" in refused.stderr and "could not start" in refused.stderr
    assert "startup/bootstrap.py" in refused.stderr
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "ok\n", "")
    assert listing.returncode == 0, listing


def test_errors_of_the_previous_sitecustomize_stay_its_own_and_the_hook_still_starts(
        tmp_path, sources):
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    (stdlib / "sitecustomize.py").write_text("raise RuntimeError('the old one failed')\n")
    global_hook.enable(str(stdlib), sources=sources)
    path = str(stdlib / "sitecustomize.py")
    code = (
        "import runpy, sys\n"
        f"try:\n    runpy.run_path({path!r}, run_name='sitecustomize')\n"
        "except RuntimeError as exc:\n    print('raised:', exc)\n"
        "from importlib.util import find_spec\n"
        "waiting = any(getattr(f, '__name__', None) == '_peep_hook_global_watch'"
        " for f in sys.meta_path)\n"
        "find_spec('pip')\n"
        "boot = sys.modules['peep_hook.startup.bootstrap']\n"
        "print(boot.HOME, waiting and boot in sys.meta_path)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60)

    # As before enabling, site reports the old file's error; the hook started anyway.
    assert result.stdout.splitlines() == [
        "raised: the old one failed", f"{stdlib / 'peep-hook'} True"], result


# A setuptools older than 42: fetch_build_egg is easy_install's (no setuptools.installer).
OLD_SETUPTOOLS = {
    "__init__.py": "__version__ = '41.6.0'\nfrom setuptools import dist\n",
    "dist.py": ("class Distribution:\n"
                "    def fetch_build_egg(self, req):\n"
                "        print('easy_install fetched', req)\n"),
}


@pytest.mark.parametrize("below_pip", [False, True], ids=["elsewhere", "below-pip"])
def test_generated_sitecustomize_refuses_easy_install_fetches_below_a_protected_pip(
        tmp_path, sources, below_pip):
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    global_hook.enable(str(stdlib), sources=sources)
    fake = tmp_path / "fake" / "setuptools"
    fake.mkdir(parents=True)
    for name, text in OLD_SETUPTOOLS.items():
        (fake / name).write_text(text)
    code = (
        f"import runpy, sys; runpy.run_path({str(stdlib / 'sitecustomize.py')!r}, "
        "run_name='sitecustomize')\n"
        f"sys.path.insert(0, {str(fake.parent)!r})\n"
        "import setuptools.dist\n"
        "try:\n    setuptools.dist.Distribution().fetch_build_egg('helperlib')\n"
        "except BaseException as exc:\n    print('refused:', exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PEEP_HOOK"))}
    if below_pip:  # what a protected pip sets for its children
        env["PEEP_HOOK_BELOW_PIP"] = "strict"
    # -S: no site-packages (virtualenv's _virtualenv.pth patches setuptools too).
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60)

    if below_pip:
        assert result.stdout.startswith("refused: ERROR: peep-hook: setuptools 41.6.0 would "
                                        "fetch helperlib"), result
    else:  # outside pip the hook stays out of the way
        assert result.stdout == "easy_install fetched helperlib\n", result


def test_enable_and_disable_are_usage_errors_without_global(capsys):
    for command in ("enable", "disable"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command])
        assert exit_info.value.code == 2
        assert "--global" in capsys.readouterr().err


@pytest.mark.parametrize("command,option", [("enable", "--global"), ("disable", "--global"),
                                            ("status", "--json")])
def test_each_new_command_has_help(command, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert option in capsys.readouterr().out


def test_status_of_an_interpreter_without_any_hook_exits_1():
    result = run([sys.executable, "-m", "peep_hook", "status", "--json"], cwd=ROOT)

    assert result.returncode == 1, str(result)
    info = json.loads(result.stdout)
    assert info["protected"] is False and info["hooked"] is False
    assert info["hooks"]["per_environment"] == []
    assert info["hooks"]["global"]["enabled"] is False
    from importlib.metadata import version
    assert info["pip"]["version"] == version("pip")
    assert "not installed in this environment" in " ".join(info["problems"])


# -- the scenario, on a copy of the base interpreter ---------------------------------


def _result(result) -> Dict[str, Any]:
    return {"returncode": result.returncode, "stdout": result.stdout,
            "stderr": result.stderr, "text": str(result)}


def _installed(site_packages: Path, name: str) -> bool:
    return any(site_packages.glob(f"{name}-*.dist-info"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sitecustomize_facts(stdlib: Path) -> Dict[str, Any]:
    path = stdlib / "sitecustomize.py"
    info = path.lstat()
    bytecode = sorted((stdlib / "__pycache__").glob("sitecustomize.*.pyc"))
    return {
        "symlink": stat.S_ISLNK(info.st_mode),
        "target": os.readlink(path) if stat.S_ISLNK(info.st_mode) else None,
        "inode": info.st_ino,
        "sha256": _sha256(path),
        "bytecode": {p.name: _sha256(p) for p in bytecode},
        "stdlib_entries": sorted(os.listdir(stdlib)),
    }


class _Env:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.python = path / "bin" / "python"
        self.site_packages = path / "lib" / f"python{VERSION}" / "site-packages"

    def run(self, *args, env=None):
        # From the environment's own directory: `python -c` puts the current
        # directory on sys.path, and the tests run from this checkout.
        return run([self.python, *args], env=env, cwd=self.path)

    def pip(self, *args, env=None):
        return self.run("-m", "pip", *args, env=env)


def _observe(env: _Env, pip_too: bool = True) -> Dict[str, Any]:
    probe = env.run("-c", PROBE)
    importtime = env.run("-X", "importtime", "-c", "pass")
    facts = {
        "probe": _result(probe),
        "state": json.loads(probe.stdout) if probe.returncode == 0 else None,
        "importtime": _result(importtime),
        "modules": sorted(imported_modules(importtime.stderr)),
    }
    if pip_too:
        facts["pip_version"] = _result(env.pip("--version"))
    return facts


def _run_scenario(tmp: Path, wheelhouse: Path, hook_wheel: Path, pip_version: str) -> Dict:
    facts: Dict[str, Any] = {"pip_version": pip_version}
    python = copy_base_interpreter(tmp / "python")
    stdlib = stdlib_of(python)
    facts["stdlib"] = str(stdlib)
    etc = tmp / "python" / "etc"
    etc.mkdir()
    (etc / "sitecustomize.py").write_text(ORIGINAL_SITECUSTOMIZE)
    os.symlink("../../etc/sitecustomize.py", stdlib / "sitecustomize.py")  # as Debian has it
    py_compile.compile(str(stdlib / "sitecustomize.py"), doraise=True)
    facts["previous"] = _sitecustomize_facts(stdlib)

    target = tmp / "target"  # peep-hook and wrapt, used via PYTHONPATH by enable alone
    install_hook_into(target, python, wheelhouse, hook_wheel, pip_version)
    pip_wheel = pip_wheel_in(wheelhouse, pip_version)

    def admin(*args) -> Dict[str, Any]:
        """``python -m peep_hook ARGS`` as the administrator, peep_hook from target/."""
        return _result(run([python, "-m", "peep_hook", *args],
                           env={"PYTHONPATH": str(target)}, cwd=tmp))

    # The Debian way (PEP 668: no pip install into the system Python): a venv of
    # the base interpreter holding peep-hook, made before enabling.
    admin_venv = _Env(tmp / "admin-venv")
    made = run([python, "-m", "venv", "--without-pip", admin_venv.path])
    assert made.returncode == 0, str(made)
    made = admin_venv.run(pip_wheel / "pip", "install", "-q", "--no-index", "--find-links",
                          wheelhouse, "wrapt", hook_wheel)
    assert made.returncode == 0, str(made)

    before = _Env(tmp / "venv-before")
    facts["venv_before_created"] = _result(run([python, "-m", "venv", before.path]))
    facts["before_unhooked"] = _observe(before, pip_too=False)

    facts["enable"] = admin("enable", "--global")
    home = stdlib / "peep-hook"
    facts["ours_sha256"] = _sha256(stdlib / "sitecustomize.py")

    after = _Env(tmp / "venv-after")
    facts["venv_after_created"] = _result(
        run([python, "-m", "venv", "--system-site-packages", after.path]))
    if facts["venv_after_created"]["returncode"] != 0:  # venv hides what ensurepip said
        facts["venv_after_created"]["text"] += "\n--- ensurepip, run again:\n" + str(
            after.run("-m", "ensurepip", "--upgrade", "--default-pip"))
    facts["venv_after_pip_record"] = [
        p.parent.name for p in after.site_packages.glob("pip-*.dist-info/PEEP_HOOK.json")]
    venv_tool = _Env(tmp / "virtualenv")
    facts["virtualenv_created"] = _result(run(
        [sys.executable, "-m", "virtualenv", "--no-periodic-update", "-p", python,
         venv_tool.path], env={"VIRTUALENV_OVERRIDE_APP_DATA": str(tmp / "app-data")}))
    # virtualenv is a test dependency (tox.ini); without it nothing below can run.
    assert facts["virtualenv_created"]["returncode"] == 0, facts["virtualenv_created"]["text"]
    # The pip under test, by a hash-checked install (venv seeds its bundled pip).
    pip_requirements = tmp / "pip-requirements.txt"
    pip_requirements.write_text(
        f"# sha256: {_peep(pip_wheel)}\npip=={pip_version}\n")
    facts["pip_upgrade"] = _result(after.pip("install", "-q", "-r", pip_requirements,
                                             "--no-index", "--find-links", wheelhouse))
    envs = {"venv_before": before, "venv_after": after, "virtualenv": venv_tool}
    facts["python"] = {"base": _observe(_Env(tmp / "python"), pip_too=False)}
    facts["python"]["base"]["python"] = str(python)
    for name, env in envs.items():
        facts["python"][name] = _observe(env)

    index = Index(tmp / "index")
    try:
        alpha, beta, gamma = wheel("alpha", "1.0"), wheel("beta", "1.0"), wheel("gamma", "1.0")
        requirements = {}
        for archive in (alpha, beta, gamma):
            requirements[archive.name] = tmp / f"{archive.name}-requirements.txt"
            requirements[archive.name].write_text(archive.peep_block())
            index.publish(tampered(archive))
        facts["expected_peep"] = {a.name: a.peep for a in (alpha, beta, gamma)}

        def install(env: _Env, name: str, extra_env=None) -> Dict[str, Any]:
            result = env.pip("install", "--no-cache-dir", "-r", requirements[name],
                             "-i", index.url, env=extra_env)
            return dict(_result(result), installed=_installed(env.site_packages, name))

        facts["tampered"] = {name: install(env, "alpha") for name, env in envs.items()}
        facts["nested_pip"] = {
            mode: _run_nested_pip(after, index, pip_wheel, tmp / f"nested-{mode}",
                                  in_process=mode == "in-process")
            for mode in NESTED_MODES}
        facts["seeding"] = _run_seeding(tmp, python)
        facts["own_copy"] = _run_own_copy(tmp, python, wheelhouse, hook_wheel, pip_version,
                                          lambda env, extra=None: install(env, "alpha", extra))
        index.publish(alpha)
        facts["good"] = {name: install(env, "alpha") for name, env in envs.items()}

        facts["status_base"] = admin("status", "--json")
        facts["status_venv_after"] = _result(after.run(home, "status", "--json"))
        facts["status_venv_after_text"] = _result(after.run(home, "status"))

        facts["status_off"] = _result(after.run(home, "status", "--json",
                                                env={"PEEP_HOOK": "off"}))

        # The administrator pins strict and an audit log: PEEP_HOOK=off cannot weaken it.
        audit_log = tmp / "audit.jsonl"
        facts["enable_pinned"] = admin("enable", "--global", "--policy", "strict",
                                       "--audit-log", audit_log)
        facts["ours_sha256_again"] = _sha256(stdlib / "sitecustomize.py")
        facts["saved_after_second_enable"] = {
            "target": os.readlink(home / "saved-sitecustomize" / "sitecustomize.py"),
            "inode": (home / "saved-sitecustomize" / "sitecustomize.py").lstat().st_ino,
        }
        facts["python"]["virtualenv_twice_enabled"] = _observe(venv_tool, pip_too=False)
        off = {"PEEP_HOOK": "off"}
        facts["pinned_off"] = install(venv_tool, "beta", off)
        facts["status_pinned"] = _result(venv_tool.run(home, "status", "--json", env=off))
        facts["audit_lines"] = audit_log.read_text().splitlines() if audit_log.exists() else []

        # Rolling out: the administrator pins warn.
        facts["enable_warn"] = _result(admin_venv.run(
            "-m", "peep_hook", "enable", "--global", "--policy", "warn"))
        facts["status_admin_venv"] = _result(admin_venv.run("-m", "peep_hook", "status",
                                                            "--json"))
        facts["warn_install"] = install(venv_tool, "beta")
        facts["status_warn"] = _result(venv_tool.run(home, "status", "--json"))

        facts["disable"] = _result(admin_venv.run("-m", "peep_hook", "disable", "--global"))
        facts["restored"] = _sitecustomize_facts(stdlib)
        facts["home_exists_after_disable"] = home.exists()
        facts["disabled"] = {name: _observe(env, pip_too=False) for name, env in envs.items()}
        facts["unhooked_tampered"] = {name: install(env, "gamma") for name, env in envs.items()}
        facts["disable_again"] = admin("disable", "--global")
    finally:
        index.close()
    return facts


NESTED_MODES = ("child", "in-process")


def _run_nested_pip(env: _Env, index: Index, pip_wheel: Path, where: Path, *,
                    in_process: bool) -> Dict[str, Any]:
    """A verified sdist whose build backend runs pip (tests/_support/nested.py):
    pip's build environment puts its own sitecustomize.py first."""
    markers = where / "markers"
    markers.mkdir(parents=True)
    suffix = "inprocess" if in_process else "child"  # the environment is not reset
    project = publish_nested_pip_project(index, markers, pip_wheel, where,
                                         in_process=in_process, suffix=suffix)
    result = env.pip("install", "--no-cache-dir", "-r", project.requirements,
                     "-c", project.constraints, "-i", index.url)
    return dict(_result(result), helper_peep=project.helper.peep, suffix=suffix,
                markers=sorted(os.listdir(markers)),
                installed=_installed(env.site_packages, f"helperlib{suffix}"))


def _virtualenv_for(where: Path) -> Path:
    """virtualenv and what it imports, from the interpreter running the tests,
    in one directory for the copy (whose site-packages is empty) to put on
    PYTHONPATH: virtualenv then runs under the global hook."""
    from importlib.metadata import PackageNotFoundError, distribution
    from importlib.util import find_spec

    where.mkdir()
    for module, project in (("virtualenv", "virtualenv"), ("distlib", "distlib"),
                            ("filelock", "filelock"), ("platformdirs", "platformdirs"),
                            ("python_discovery", "python-discovery"),
                            ("packaging", "packaging"),
                            ("typing_extensions", "typing-extensions")):
        spec = find_spec(module)
        if spec is None:
            continue  # not one this virtualenv needs
        origin = (spec.submodule_search_locations or [spec.origin])[0]
        os.symlink(origin, where / os.path.basename(origin))
        try:  # its metadata: virtualenv reads versions, and its RECORD lists the wheels
            metadata = Path(str(distribution(project)._path))  # type: ignore[attr-defined]
        except PackageNotFoundError:
            continue
        os.symlink(metadata, where / metadata.name)
    return where


def _run_seeding(tmp: Path, python: Path) -> Dict[str, Any]:
    """virtualenv's default seeder run by the hooked interpreter: as it comes,
    and with a planted pip wheel in an --extra-search-dir (a shared wheelhouse)."""
    shared = tmp / "shared-wheels"
    wheel("pip", "99.0", payload="PLANTED = True").write(shared)
    env = {"PYTHONPATH": str(_virtualenv_for(tmp / "virtualenv-path")),
           "VIRTUALENV_OVERRIDE_APP_DATA": str(tmp / "seeding-app-data")}
    facts = {}
    for case, extra in (("embedded", []), ("planted", ["--extra-search-dir", str(shared)])):
        made = _Env(tmp / f"seeded-{case}")
        result = run([python, "-m", "virtualenv", made.path, "--no-periodic-update", *extra],
                     env=env, cwd=tmp)
        facts[case] = dict(_result(result), pips=sorted(
            p.name for p in made.site_packages.glob("pip-*.dist-info")))
    return facts


# Appended to an environment's own peep_hook.hook.targets and wrapt: they
# leave a file named for the module when imported.
_MARKING = "\nopen({directory!r} + '/' + __name__, 'a').close()\n"


def _run_own_copy(tmp: Path, python: Path, wheelhouse: Path, hook_wheel: Path,
                  pip_version: str, install) -> Dict[str, Any]:
    """A venv of the hooked interpreter with its own peep-hook and wrapt (with
    its own peep_hook.pth), changed to leave markers: a tampered install, then
    again with pip imported at start-up, before either hook."""
    owner = _Env(tmp / "own-copy")
    made = run([python, "-m", "venv", "--without-pip", owner.path])
    assert made.returncode == 0, str(made)
    pip_wheel = pip_wheel_in(wheelhouse, pip_version)
    made = owner.run(pip_wheel / "pip", "install", "-q", "--no-index", "--find-links",
                     wheelhouse, f"pip=={pip_version}", "wrapt", hook_wheel,
                     env={"PEEP_HOOK": "off"})  # no policy pinned yet
    assert made.returncode == 0, str(made)
    markers = tmp / "own-copy-markers"
    markers.mkdir()
    for module in ("peep_hook/hook/targets.py", "wrapt/__init__.py"):
        with open(owner.site_packages / module, "a") as f:
            f.write(_MARKING.format(directory=str(markers)))
    facts = {"plain": install(owner)}
    facts["plain"]["markers"] = sorted(os.listdir(markers))
    (owner.site_packages / "00-imports-pip.pth").write_text("import pip\n")
    facts["pip_first"] = install(owner)
    facts["pip_first"]["markers"] = sorted(os.listdir(markers))
    return facts


def _peep(path: Path) -> str:
    from peep_hook.core.hashes import hex_to_peep
    return hex_to_peep(_sha256(path))


@pytest.fixture(scope="session")
def scenario(request, tmp_path_factory, wheelhouse, pip_version) -> Dict[str, Any]:
    """The scenario, run once per test run."""
    def fresh() -> Dict[str, Any]:
        hook_wheel = request.getfixturevalue("hook_wheel")
        return _run_scenario(tmp_path_factory.mktemp("global"), wheelhouse, hook_wheel,
                             pip_version)
    return once_per_run(tmp_path_factory, "global-scenario", fresh)


ENVS = ("venv_before", "venv_after", "virtualenv")


def _ok(fact: Dict[str, Any]) -> None:
    assert fact["returncode"] == 0, fact["text"]


def test_enable_keeps_the_previous_sitecustomize_running_everywhere(scenario):
    _ok(scenario["enable"])
    assert "kept the previous" in scenario["enable"]["stdout"]
    assert "a symlink to ../../etc/sitecustomize.py" in scenario["enable"]["stdout"]
    for name in ("base",) + ENVS:
        state = scenario["python"][name]["state"]
        assert state is not None, scenario["python"][name]["probe"]["text"]
        assert state["original_runs"] == 1, (name, state)
        assert state["global_home"] == str(Path(scenario["stdlib"]) / "peep-hook"), (name, state)
        assert state["bootstrap_file"].startswith(state["global_home"]), (name, state)


def test_venv_and_virtualenv_made_under_the_hook_bootstrap_normally(scenario):
    _ok(scenario["venv_before_created"])
    _ok(scenario["venv_after_created"])
    # ensurepip's pip install ran under the hook, which verified the bundled wheel.
    assert scenario["venv_after_pip_record"], "ensurepip's pip has no PEEP_HOOK.json"
    _ok(scenario["virtualenv_created"])
    _ok(scenario["pip_upgrade"])
    upgraded = scenario["python"]["venv_after"]["pip_version"]["stdout"]
    assert upgraded.startswith(f"pip {scenario['pip_version']} "), upgraded
    for name in ENVS:
        _ok(scenario["python"][name]["pip_version"])


@pytest.mark.parametrize("name", ENVS)
def test_every_environment_enforces_hashes_in_an_unchanged_pip_install(scenario, name):
    refused, good = scenario["tampered"][name], scenario["good"][name]

    assert refused["returncode"] == 1, refused["text"]
    assert not refused["installed"]
    assert f"# sha256: {scenario['expected_peep']['alpha']}" in refused["stderr"], refused["text"]
    assert good["returncode"] == 0, good["text"]
    assert good["installed"]


@pytest.mark.parametrize("name", ("base",) + ENVS)
def test_start_up_imports_nothing_heavy_and_leaves_sys_path_alone(scenario, name):
    observed = scenario["python"][name]
    state = observed["state"]

    assert state["heavy_modules"] == [], state
    assert state["peep_on_path"] == [], state
    assert not state["wrapt_importable"] and not state["peep_hook_importable"], state
    assert state["watching"] is True and state["guards"] == [], state
    assert "sitecustomize" in observed["modules"]
    assert not {m for m in observed["modules"]
                if m.split(".")[0] in ("pip", "wrapt", "peep_hook")}, observed["modules"]
    assert [line for line in observed["importtime"]["stderr"].splitlines()
            if not line.startswith("import time:")] == []


def test_the_hook_adds_no_import_to_start_up(scenario):
    unhooked = set(scenario["before_unhooked"]["modules"])
    hooked = set(scenario["python"]["venv_before"]["modules"])
    assert hooked == unhooked


def test_status_reports_the_global_hook_and_pip(scenario):
    _ok(scenario["status_base"])
    base = json.loads(scenario["status_base"]["stdout"])
    _ok(scenario["status_venv_after"])
    venv = json.loads(scenario["status_venv_after"]["stdout"])
    home = str(Path(scenario["stdlib"]) / "peep-hook")

    for info in (base, venv):
        assert info["protected"] is True and info["hooked"] is True
        assert info["hooks"]["global"]["enabled"] is True
        assert info["hooks"]["global"]["active"] is True
        assert info["hooks"]["global"]["home"] == home
        assert info["hooks"]["global"]["previous_sitecustomize"] == "symlink"
        assert info["hooks"]["global"]["config"] == os.path.join(home, "peep-hook.ini")
        assert info["hooks"]["per_environment"] == []
        assert info["policy"]["mode"] == "strict" and info["policy"]["source"] == "default"
        assert info["audit_log"]["path"] is None
        assert info["bootstrap"] == os.path.join(home, "peep_hook", "startup", "bootstrap.py")
    assert base["virtual_environment"] is False and venv["virtual_environment"] is True
    assert base["pip"]["version"] is None  # the copy's site-packages is empty
    assert venv["pip"] == {"version": scenario["pip_version"], "support": "supported",
                           "supported": True, "supported_range": "20.3 to 26.3"}
    text = scenario["status_venv_after_text"]
    _ok(text)
    assert "protected:        yes" in text["stdout"]
    assert f"pip:              {scenario['pip_version']} (supported" in text["stdout"]


def test_status_under_peep_hook_off_without_a_pin_is_not_protected(scenario):
    assert scenario["status_off"]["returncode"] == 1, scenario["status_off"]["text"]
    info = json.loads(scenario["status_off"]["stdout"])
    assert info["hooked"] is True and info["protected"] is False
    assert (info["policy"]["mode"], info["policy"]["source"]) == ("off", "PEEP_HOOK=off")
    assert any(p.startswith("policy is off") for p in info["problems"])


def test_administrator_pin_and_audit_log_reach_every_environment(scenario):
    _ok(scenario["enable_pinned"])
    refused = scenario["pinned_off"]
    assert refused["returncode"] == 1, refused["text"]
    assert not refused["installed"]
    assert "is ignored" in refused["stderr"]  # PEEP_HOOK=off, against the pin
    info = json.loads(scenario["status_pinned"]["stdout"])
    config = os.path.join(scenario["stdlib"], "peep-hook", "peep-hook.ini")
    assert info["protected"] is True
    assert (info["policy"]["mode"], info["policy"]["source"]) == ("strict", config)
    assert "is ignored" in info["policy"]["warning"]
    assert info["audit_log"]["path"].endswith("audit.jsonl")
    assert info["audit_log"]["source"] == config
    records = [json.loads(line) for line in scenario["audit_lines"]]
    assert records, "the administrator's audit log has no line"


def test_warn_policy_rolls_out_without_refusing(scenario):
    _ok(scenario["enable_warn"])
    proceeded = scenario["warn_install"]
    assert proceeded["returncode"] == 0, proceeded["text"]
    assert proceeded["installed"]
    assert "policy is warn" in proceeded["stderr"]
    assert f"# sha256: {scenario['expected_peep']['beta']}" in proceeded["stderr"]
    info = json.loads(scenario["status_warn"]["stdout"])
    assert scenario["status_warn"]["returncode"] == 1  # hooked, but not protected
    assert info["hooked"] is True and info["protected"] is False
    assert info["policy"]["mode"] == "warn"


def test_a_venv_of_the_base_interpreter_administers_the_global_hook(scenario):
    _ok(scenario["enable_warn"])
    info = json.loads(scenario["status_admin_venv"]["stdout"])
    home = os.path.join(scenario["stdlib"], "peep-hook")
    # Its own peep_hook.pth and the global hook both reach it; one bootstrap runs.
    assert len(info["hooks"]["per_environment"]) == 1
    assert info["hooks"]["per_environment"][0].endswith("site-packages/peep_hook.pth")
    assert info["hooks"]["global"]["enabled"] and info["hooks"]["global"]["active"]
    assert info["hooks"]["global"]["stdlib"] == scenario["stdlib"]
    # The global hook's bootstrap: the venv's own .pth only waits (through its
    # trampoline) and loads nothing at start-up, so the global copy runs.
    assert info["bootstrap"].startswith(home)
    assert (info["policy"]["mode"], info["policy"]["source"]) == (
        "warn", os.path.join(home, "peep-hook.ini"))
    _ok(scenario["disable"])


@pytest.mark.parametrize("mode", NESTED_MODES)
def test_a_pip_run_by_a_build_backend_is_hooked_too(scenario, mode):
    nested = scenario["nested_pip"][mode]

    assert f"pipbackend{nested['suffix']}-1.0" in nested["markers"], nested["text"]
    assert nested["returncode"] == 1, nested["text"]
    assert f"# sha256: {nested['helper_peep']}" in nested["stdout"] + nested["stderr"], (
        nested["text"])
    assert not nested["installed"], nested["text"]
    assert f"helperlib{nested['suffix']}-1.0" not in nested["markers"], nested["text"]


def test_virtualenv_seeds_its_own_embedded_wheels_under_the_hook(scenario):
    seeded = scenario["seeding"]["embedded"]

    assert seeded["returncode"] == 0, seeded["text"]
    assert seeded["pips"] and seeded["pips"] != ["pip-99.0.dist-info"], seeded["text"]


def test_virtualenv_refuses_a_wheel_planted_in_an_extra_search_dir(scenario):
    planted = scenario["seeding"]["planted"]

    assert planted["returncode"] != 0, planted["text"]
    assert "pip-99.0.dist-info" not in planted["pips"], planted["text"]
    assert "not one of the wheels embedded in virtualenv" in planted["stderr"], planted["text"]


@pytest.mark.parametrize("case", ("plain", "pip_first"))
def test_an_environments_own_peep_hook_and_wrapt_never_replace_the_administrators(
        scenario, case):
    refused = scenario["own_copy"][case]

    assert refused["markers"] == [], refused["text"]  # the venv's copies never ran
    assert refused["returncode"] == 1, refused["text"]
    assert not refused["installed"]
    assert f"# sha256: {scenario['expected_peep']['alpha']}" in refused["stderr"], refused["text"]


def test_enabling_again_does_not_chain_to_itself(scenario):
    assert scenario["ours_sha256_again"] == scenario["ours_sha256"]
    saved = scenario["saved_after_second_enable"]
    assert saved == {"target": scenario["previous"]["target"],
                     "inode": scenario["previous"]["inode"]}
    state = scenario["python"]["virtualenv_twice_enabled"]["state"]
    assert state["original_runs"] == 1 and state["global_home"]


def test_disable_restores_the_previous_sitecustomize_exactly_and_unhooks(scenario):
    _ok(scenario["disable"])
    assert scenario["restored"] == scenario["previous"]  # the same symlink inode, bytecode
    assert scenario["restored"]["symlink"] is True
    assert not scenario["home_exists_after_disable"]
    for name in ENVS:
        state = scenario["disabled"][name]["state"]
        assert state["original_runs"] == 1
        assert state["bootstrap_file"] is None and state["watching"] is False
        unhooked = scenario["unhooked_tampered"][name]
        assert unhooked["returncode"] == 0 and unhooked["installed"], unhooked["text"]
    _ok(scenario["disable_again"])
    assert "not enabled" in scenario["disable_again"]["stdout"]


def _assert_venv_installs_pip_from_under_the_global_hook(
        python: Path, wheels: Path, tmp_path: Path, wheelhouse: Path, hook_wheel: Path,
        pip_version: str) -> None:
    """Enable the global hook on ``python``; ``python -m venv`` must then work,
    its pip installed through the hook from one of the wheels in ``wheels``."""
    enable_global_hook(python, tmp_path, wheelhouse, hook_wheel, pip_version)
    env = _Env(tmp_path / "venv")

    made = run([python, "-m", "venv", env.path], cwd=tmp_path)

    assert made.returncode == 0, (str(made) + "\n--- ensurepip, run again:\n"
                                  + str(env.run("-m", "ensurepip", "--default-pip")))
    records = list(env.site_packages.glob("pip-*.dist-info/PEEP_HOOK.json"))
    assert records, "ensurepip's pip install did not go through the hook"
    wheel_hashes = {_sha256(w) for w in wheels.glob("pip-*.whl")}
    assert json.loads(records[0].read_text())["sha256"] in wheel_hashes


# WHEEL_PKG_DIR is a build setting from Python 3.10 on: before, there is no
# such setting to point at a distribution's wheel directory (distributions
# patched ensurepip's source instead), so the test exists from 3.10 only.
if sys.version_info >= (3, 10):
    def test_python_m_venv_works_under_the_hook_with_a_distributions_wheel_directory(
            tmp_path, wheelhouse, hook_wheel, pip_version):
        """Debian and Fedora build Python with WHEEL_PKG_DIR (/usr/share/python-wheels)
        and without ensurepip/_bundled: ensurepip installs the wheels found there."""
        python = copy_base_interpreter(tmp_path / "python")
        stdlib = stdlib_of(python)
        wheels = tmp_path / "python-wheels"
        (stdlib / "ensurepip" / "_bundled").rename(wheels)
        (data,) = stdlib.glob("_sysconfigdata_*.py")
        text = data.read_text()
        assert "'WHEEL_PKG_DIR': ''" in text
        data.write_text(text.replace("'WHEEL_PKG_DIR': ''", f"'WHEEL_PKG_DIR': {str(wheels)!r}"))
        _assert_venv_installs_pip_from_under_the_global_hook(
            python, wheels, tmp_path, wheelhouse, hook_wheel, pip_version)


# Before Python 3.10 there was no WHEEL_PKG_DIR: Debian, Ubuntu, Fedora and
# RHEL patched ensurepip to read its wheels from a hard-coded _WHEEL_DIR
# (/usr/share/python-wheels) instead of ensurepip/_bundled. The patch is to
# 3.8's and 3.9's ensurepip source, so the test exists for those only.
if sys.version_info < (3, 10):
    @pytest.mark.core
    def test_python_m_venv_works_under_the_hook_with_a_distributions_patched_ensurepip(
            tmp_path, wheelhouse, hook_wheel, pip_version):
        python = copy_base_interpreter(tmp_path / "python")
        stdlib = stdlib_of(python)
        wheels = tmp_path / "python-wheels"
        wheels.mkdir()
        for bundled in (stdlib / "ensurepip" / "_bundled").glob("*.whl"):
            bundled.rename(wheels / bundled.name)
        init = stdlib / "ensurepip" / "__init__.py"
        text, reads = re.subn(  # 3.9's read, then 3.8's
            r"resources\.read_binary\(\s*_bundled,\s*wheel_name,?\s*\)|"
            r'pkgutil\.get_data\(\s*"ensurepip",\s*"_bundled/\{\}"\.format\(wheel_name\),?\s*\)',
            "open(os.path.join(_WHEEL_DIR, wheel_name), 'rb').read()", init.read_text())
        assert reads == 1
        init.write_text(text.replace('__all__ = ["version", "bootstrap"]',
                                     f'__all__ = ["version", "bootstrap"]\n'
                                     f'_WHEEL_DIR = {str(wheels)!r}', 1))
        _assert_venv_installs_pip_from_under_the_global_hook(
            python, wheels, tmp_path, wheelhouse, hook_wheel, pip_version)
