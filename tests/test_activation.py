"""Packaging and activation: the .pth, start-up cost, fail-closed loading, uninstall.

The venvs these tests change are made afresh, not copied from the template
(tests/_support/venvs.py): installing the hook is part of what they prove."""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

from peep_hook import __version__
from tests._support.archives import tampered, wheel
from tests._support.outcomes import imported_modules
from tests._support.project import copy_source
from tests._support.venvs import Venv, clean_env, run

_IMPORTS_PIP_AND_REPORTS = (
    "import sys, pip; print('wrapt' in sys.modules, 'peep_hook.hook.targets' in sys.modules)"
)


def test_wheel_puts_pth_and_start_files_at_its_root_and_in_record(hook_wheel: Path):
    with zipfile.ZipFile(hook_wheel) as zf:
        names = set(zf.namelist())
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
        recorded = {line.split(",")[0] for line in zf.read(record).decode().splitlines()}
        pth = zf.read("peep_hook.pth").decode()
        start = zf.read("peep_hook.start").decode()
    assert {"peep_hook.pth", "peep_hook.start", "_peep_hook_start.py",
            "peep_hook/startup/bootstrap.py"} <= names
    assert {"peep_hook.pth", "peep_hook.start", "_peep_hook_start.py"} <= recorded
    assert "peep_hook/_start.py" not in names  # installed at the top only
    assert len(pth.splitlines()) == 1 and pth.startswith("import ")
    assert start.strip() == "_peep_hook_start:install"


def test_wheel_root_holds_exactly_the_start_up_files_the_package_and_its_metadata(
        hook_wheel: Path):
    # Only the root is listed: what lies inside peep_hook/ may move freely.
    with zipfile.ZipFile(hook_wheel) as zf:
        names = zf.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/RECORD"))
        top_level = zf.read(f"{dist_info}/top_level.txt").decode().split()
        licensed = [n for n in names if n.startswith(dist_info) and n.endswith("/LICENSE")]
        license_text = zf.read(licensed[0]).decode() if licensed else ""
    root_files = {n for n in names if "/" not in n}
    root_dirs = {n.split("/")[0] for n in names if "/" in n}
    assert root_files == {"_peep_hook_start.py", "peep_hook.pth", "peep_hook.start"}
    assert root_dirs == {"peep_hook", dist_info}
    assert dist_info == f"peep_hook-{__version__}.dist-info"
    assert "peep_hook/__init__.py" in names
    # What pip and importlib.metadata report as the wheel's importable names:
    # exactly the modules and packages at its root.
    importable = ({f[:-len(".py")] for f in root_files if f.endswith(".py")}
                  | {d for d in root_dirs if d != dist_info})
    assert sorted(top_level) == sorted(importable) == ["_peep_hook_start", "peep_hook"]
    assert license_text.startswith("MIT License") and "peep-hook contributors" in license_text


def test_python_that_never_imports_pip_loads_neither_wrapt_nor_pip(venv: Venv):
    result = venv.python_run("-X", "importtime", "-c", "pass")

    assert result.returncode == 0
    assert result.stdout == ""
    imported = imported_modules(result.stderr)
    assert "_peep_hook_start" in imported  # the .pth line did run
    assert not {m for m in imported if m.split(".")[0] in ("wrapt", "pip", "peep_hook")}
    assert [line for line in result.stderr.splitlines() if not line.startswith("import time:")] == []


def test_start_up_is_idempotent_and_quiet(venv: Venv):
    result = venv.python_run(
        "-c",
        "import sys, _peep_hook_start as t; t.install(); t.install();"
        "print(sum(f is t for f in sys.meta_path))",
    )
    assert result.returncode == 0, str(result)
    assert result.stdout.strip() == "1"
    assert result.stderr == ""


def test_pip_commands_that_fetch_nothing_do_not_load_the_hook(venv: Venv):
    for command in (["--version"], ["list"], ["install", "--help"]):
        result = venv.python_run("-X", "importtime", "-m", "pip", *command)
        assert result.returncode == 0, str(result)
        imported = imported_modules(result.stderr)
        assert "pip._internal.cli.base_command" in imported or command == ["--version"]
        assert not {m for m in imported if m.split(".")[0] == "wrapt"}, command
        assert "peep_hook.hook.targets" not in imported, command


def test_importing_pip_as_a_library_stays_light(venv: Venv):
    result = venv.python_run("-c", _IMPORTS_PIP_AND_REPORTS)
    assert result.stdout.split() == ["False", "False"], str(result)


def test_python_dash_m_pip_is_hooked(venv: Venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    result = venv.python_run("-m", "pip", "install", "alpha==1.0", "-i", index.url)
    assert result.returncode == 1, str(result)
    assert f"# sha256: {alpha.peep}" in result.stderr
    assert not venv.installed("alpha")


def test_non_fetching_pip_commands_work(venv: Venv):
    result = venv.pip("list")
    assert result.returncode == 0, str(result)
    assert "peep-hook" in result.stdout or "peep_hook" in result.stdout


def test_missing_patch_target_makes_pip_refuse(make_venv, index, tmp_path):
    venv = make_venv(fresh=True)
    # A "future pip" in which the guard's patch point has been renamed.
    prepare = next(venv.site_packages.glob("pip/_internal/operations/prepare.py"))
    with prepare.open("a") as f:
        f.write(
            "\nRequirementPreparer._hashes_for = RequirementPreparer._get_linked_req_hashes\n"
            "del RequirementPreparer._get_linked_req_hashes\n"
        )
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert result.returncode == 1, str(result)
    assert "peep-hook cannot protect pip" in result.stderr
    assert "RequirementPreparer._get_linked_req_hashes is missing" in result.stderr
    assert "PEEP_HOOK=off" in result.stderr
    assert not venv.installed("alpha")
    # Commands that fetch nothing still work, so the environment can be repaired.
    assert venv.pip("--version").returncode == 0
    assert venv.pip("uninstall", "-y", "peep-hook").returncode == 0


def test_hook_that_cannot_load_makes_pip_refuse(make_venv, index, tmp_path):
    venv = make_venv(fresh=True)
    # wrapt half-removed: its package is there but broken.
    (venv.site_packages / "wrapt" / "__init__.py").write_text("raise ImportError('broken wrapt')\n")
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)

    result = venv.pip("install", "alpha==1.0", "-i", index.url)

    assert result.returncode == 1, str(result)
    assert "peep-hook could not load inside pip" in result.stderr
    assert "broken wrapt" in result.stderr
    assert not venv.installed("alpha")
    # Outside pip, Python still starts silently.
    plain = venv.python_run("-c", "print('ok')")
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "ok\n", "")


def test_uninstall_leaves_no_trace_and_pip_works_unhooked(make_venv, index, tmp_path):
    venv = make_venv(fresh=True)
    assert (venv.site_packages / "peep_hook.pth").exists()

    result = venv.pip("uninstall", "-y", "peep-hook")

    assert result.returncode == 0, str(result)
    leftovers = [p.name for p in venv.site_packages.iterdir() if "peep" in p.name.lower()]
    assert leftovers == []
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    unhooked = venv.pip("install", "alpha==1.0", "-i", index.url)
    assert unhooked.returncode == 0, str(unhooked)
    assert venv.installed("alpha")


def test_pip_newer_than_tested_works_with_a_notice_when_its_patch_points_check_out(
        make_venv, index, tmp_path):
    venv = make_venv(fresh=True)
    init = venv.site_packages / "pip" / "__init__.py"
    text = init.read_text()
    version_line = next(line for line in text.splitlines() if line.startswith("__version__"))
    init.write_text(text.replace(version_line, '__version__ = "99.0"'))
    # Same size, maybe the same second: the cached byte code would still say
    # the old version. Python must compile the changed file.
    for cached in (init.parent / "__pycache__").glob("__init__.*.pyc"):
        cached.unlink()
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert "pip 99.0 is newer than the newest pip tested" in result.stderr
    assert venv.installed("alpha")
    # ... and still enforces.
    venv.pip("uninstall", "-y", "alpha")
    index.publish(tampered(alpha))
    assert venv.pip("install", "-r", req, "-i", index.url).returncode == 1


def test_every_pip_the_suite_runs_caches_in_a_private_directory_not_the_users(venv: Venv):
    # pip's own answer, through the same clean_env every test's pip gets.
    result = venv.pip("cache", "dir")
    assert result.returncode == 0, str(result)
    cache = Path(result.stdout.strip())
    assert cache == Path(clean_env()["PIP_CACHE_DIR"])
    assert cache.parent == Path(tempfile.gettempdir()) and "peep-hook-pip-cache" in cache.name


def test_editable_install_puts_the_start_up_files_at_the_top_and_arms_the_hook(
        make_venv, wheelhouse, tmp_path):
    # `pip install -e .` builds this editable wheel with setuptools (PEP 660);
    # built here without network, by the tox environment's setuptools.
    source = copy_source(tmp_path / "source")
    built = run([sys.executable, "-c", "import sys; from setuptools import build_meta;"
                 "print(build_meta.build_editable(sys.argv[1]))", tmp_path / "dist"], cwd=source)
    assert built.returncode == 0, str(built)
    editable = tmp_path / "dist" / built.stdout.split()[-1]
    with zipfile.ZipFile(editable) as zf:
        root = {n.split("/")[0] for n in zf.namelist()}
    assert {"_peep_hook_start.py", "peep_hook.pth", "peep_hook.start"} <= root
    venv = make_venv(hooked=False, fresh=True)
    assert venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, "wrapt",
                    editable).returncode == 0

    # Not from this checkout's directory, where `import peep_hook` would find it anyway.
    result = run([venv.python, "-c", "import sys, peep_hook;"
                  "print('_peep_hook_start' in sys.modules, peep_hook.__file__)"], cwd=tmp_path)
    assert result.returncode == 0, str(result)
    armed, imported_from = result.stdout.split()
    assert armed == "True" and Path(imported_from).parent == source / "peep_hook"
