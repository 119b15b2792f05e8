"""tox under the global hook: the archive tox builds of the project under test.

tox 4 builds an sdist (or, with ``package = editable``, an editable wheel) of
the user's own tree into ``<work dir>/.tmp/package/<n>/`` and installs it with
``pip install --force-reinstall --no-deps <that path>``. peep-hook installs it
unhashed, as it would ``pip install ./project``, only when pip's command line
names it there and the archive and those directories are this user's alone.
Anything else (the same archive elsewhere, named in a file, in a directory
others can write) is refused as any unhashed archive.

The real-tox test (marked slow: CI runs it with pip 26.3) runs tox from this test environment (tox.ini's deps) with a
copy of the base interpreter under the global hook; tox's environments get the
pip under test from the wheelhouse; all installs come from a find-links
directory, the build backend hashed in a constraints file named in pip's
configuration (README, "Bootstrap steps").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._support.archives import WHEEL_WRITER, wheel
from tests._support.interpreters import globally_hooked_interpreter
from tests._support.outcomes import refused
from tests._support.venvs import Venv, clean_env

#: a PEP 517 backend with sdists and editable wheels, enough for tox
BACKEND = '''
import os, tarfile

def _meta():
    fields = {}
    with open("PKG-INFO") as f:
        for line in f:
            key, _, value = line.partition(": ")
            fields.setdefault(key, value.strip())
    return fields["Name"], fields["Version"]

def get_requires_for_build_sdist(config_settings=None):
    return []

get_requires_for_build_wheel = get_requires_for_build_editable = get_requires_for_build_sdist

def build_sdist(sdist_directory, config_settings=None):
    name, version = _meta()
    top = name + "-" + version
    with tarfile.open(os.path.join(sdist_directory, top + ".tar.gz"), "w:gz") as tf:
        for each in ("pyproject.toml", "PKG-INFO", name + ".py"):
            tf.add(each, top + "/" + each)
    return top + ".tar.gz"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version = _meta()
    return write_wheel(wheel_directory, name, version, {name + ".py": open(name + ".py").read()})

build_editable = build_wheel
''' + WHEEL_WRITER


def _project(directory: Path, python: Path | str) -> Path:
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["toybackend"]\nbuild-backend = "toybackend"\n')
    (directory / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: proj\nVersion: 1.0\n")
    (directory / "proj.py").write_text("OK = 'imported'\n")
    (directory / "tox.ini").write_text(
        f"[tox]\nenv_list = py, ed\n[testenv]\nbase_python = {python}\n"
        "commands = python -c 'import proj; print(proj.OK)'\n"
        "[testenv:ed]\npackage = editable\n")
    return directory


@pytest.mark.slow  # a minute: tox makes three environments
def test_tox_installs_the_project_under_test_under_the_global_hook(
        tmp_path, wheelhouse, hook_wheel, pip_version):
    python = globally_hooked_interpreter(tmp_path, wheelhouse, hook_wheel, pip_version)
    backend = wheel("toybackend", "1.0", payload=BACKEND)
    backend.write(tmp_path / "links")
    (tmp_path / "constraints.txt").write_text(backend.peep_block())
    (tmp_path / "pip.conf").write_text(
        f"[global]\nno-index = true\nfind-links = {tmp_path / 'links'}\n"
        f"constraint = {tmp_path / 'constraints.txt'}\n")
    project = _project(tmp_path / "proj", python)
    env = {k: v for k, v in clean_env({
        "PIP_CONFIG_FILE": str(tmp_path / "pip.conf"),
        "VIRTUALENV_EXTRA_SEARCH_DIR": str(wheelhouse),
        "VIRTUALENV_PIP": pip_version,
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "VIRTUALENV_OVERRIDE_APP_DATA": str(tmp_path / "app-data"),
    }).items() if not k.startswith("TOX_")}

    tox = subprocess.run([sys.executable, "-m", "tox", "-e", "py,ed"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)

    output = tox.stdout + tox.stderr
    assert tox.returncode == 0, output
    assert output.count("imported") == 2, output


# -- what is recognised as tox's build, with the per-environment hook ----------------


def _tox_build(project: Path) -> Path:
    """A wheel where tox 4 puts its build of ``project``."""
    built = wheel("proj", "1.0")
    return built.write(project / ".tox" / ".tmp" / "package" / "1")


def test_an_archive_in_toxs_package_directory_named_on_the_command_line_is_installed(
        venv: Venv, tmp_path):
    path = _tox_build(tmp_path / "proj")
    result = venv.pip("install", "--force-reinstall", "--no-deps", path)
    assert result.returncode == 0, str(result)
    assert venv.installed("proj")


def test_the_same_archive_elsewhere_or_named_in_a_file_is_refused(venv: Venv, tmp_path):
    path = _tox_build(tmp_path / "proj")
    elsewhere = tmp_path / "downloads" / path.name
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(path.read_bytes())
    req = tmp_path / "req.txt"
    req.write_text(f"{path}\n")
    for args in ([elsewhere], ["-r", req]):
        result = venv.pip("install", "--no-deps", *args)
        assert refused(result), str(result)
        assert "no hash" in result.stderr, str(result)
    assert not venv.installed("proj")


def test_toxs_package_directory_that_others_can_write_is_not_trusted(venv: Venv, tmp_path):
    path = _tox_build(tmp_path / "proj")
    os.chmod(path.parent, 0o777)
    result = venv.pip("install", "--no-deps", path)
    assert refused(result), str(result)
    assert not venv.installed("proj")
