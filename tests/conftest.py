"""Fixtures: the built peep-hook wheel, venvs, a local index, markers.

The wheel and a template venv of each kind are made once per run, shared by
the pytest-xdist workers (tests/_support/shared.py); a test's venv is a copy
of its template, or made afresh where making it is the point.

The pip under test and the wheelhouse holding it (and wrapt) come from the
environment, set by tox: PEEP_HOOK_TEST_PIP and PEEP_HOOK_TEST_WHEELHOUSE.
Nothing here touches the network.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests._support.index import Index
from tests._support.project import copy_source, source_digest
from tests._support.shared import locked
from tests._support.venvs import Venv, run


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise pytest.UsageError(
            f"{name} is not set: run the tests through tox (see README.rst), "
            "which downloads the pip under test into a wheelhouse first."
        )
    return value


@pytest.fixture(scope="session")
def pip_version() -> str:
    return _setting("PEEP_HOOK_TEST_PIP")


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    return Path(_setting("PEEP_HOOK_TEST_WHEELHOUSE"))


@pytest.fixture(scope="session")
def hook_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """peep-hook's wheel, built without network from a copy of this checkout,
    once per run, or once for every tox environment (PEEP_HOOK_TEST_WHEELS):
    the name holds a digest of the sources."""
    shared_by_envs = os.environ.get("PEEP_HOOK_TEST_WHEELS")
    with locked(tmp_path_factory, f"peep-hook-wheel-{source_digest()}",
                Path(shared_by_envs) if shared_by_envs else None) as shared:
        built = sorted((shared / "dist").glob("peep_hook-*.whl"))
        if built:
            return built[0]
        source = shared / "source"
        shutil.rmtree(source, ignore_errors=True)  # left by a build that died
        copy_source(source)
        out = shared / "building"
        shutil.rmtree(out, ignore_errors=True)
        result = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index",
                      "--no-build-isolation", "-q", "-w", out, source])
        assert result.returncode == 0, str(result)
        out.rename(shared / "dist")  # only a finished build is ever found
        return next((shared / "dist").glob("peep_hook-*.whl"))


@pytest.fixture(scope="session")
def venv_template(tmp_path_factory, wheelhouse, pip_version, hook_wheel):
    """The venv of each kind (hooked or not) that copies are made from, made
    once per run; never run in, so never changed."""
    def template(*, hooked: bool) -> Venv:
        kind = "hooked" if hooked else "plain"
        with locked(tmp_path_factory, f"venv-template-{kind}") as shared:
            path = shared / "env"
            if (shared / "made").exists():
                return Venv(path)
            shutil.rmtree(path, ignore_errors=True)  # left by a worker that died
            made = Venv.create(path, wheelhouse=wheelhouse, pip_version=pip_version,
                               hook_wheel=hook_wheel if hooked else None)
            (shared / "made").touch()
            return made
    return functools.lru_cache(maxsize=None)(template)


@pytest.fixture(scope="session")
def make_venv(tmp_path_factory, wheelhouse, pip_version, hook_wheel, venv_template):
    """A new venv with the pip under test (``hooked``: and peep-hook, wrapt):
    a copy of the template, or made afresh (``fresh``) where making it is what
    a test is about. ``user_site``: it sees the system site-packages, which
    switches the user site back on (``pip install --user``)."""
    def make(*, hooked: bool = True, fresh: bool = False, user_site: bool = False) -> Venv:
        path = tmp_path_factory.mktemp("venv") / "env"
        if fresh:
            made = Venv.create(path, wheelhouse=wheelhouse, pip_version=pip_version,
                               hook_wheel=hook_wheel if hooked else None)
        else:
            made = venv_template(hooked=hooked).copy(path)
        if user_site:
            made.see_system_site_packages()
        return made
    return make


@pytest.fixture(scope="session")
def _shared_venv(make_venv) -> Venv:
    return make_venv()


@pytest.fixture
def venv(_shared_venv: Venv) -> Iterator[Venv]:
    """A venv with the pip under test and peep-hook; reset after each test."""
    yield _shared_venv
    _shared_venv.reset()


@pytest.fixture(scope="session")
def _shared_plain_venv(make_venv) -> Venv:
    return make_venv(hooked=False)


@pytest.fixture
def plain_venv(_shared_plain_venv: Venv) -> Iterator[Venv]:
    """A venv with the same pip and no peep-hook; reset after each test."""
    yield _shared_plain_venv
    _shared_plain_venv.reset()


@pytest.fixture(scope="module")
def user_site_venv(make_venv) -> Venv:
    """A hooked venv in which pip may install with ``--user``.

    In a venv without system site-packages, Python disables the user site and
    pip stops every ``--user`` install ("Can not perform a '--user' install")
    before it fetches anything: a refusal of pip's own, which says nothing
    about hash checking.
    """
    return make_venv(user_site=True)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    served = Index(tmp_path / "index")
    yield served
    served.close()


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    """Where sdist backends leave a file when any of their code runs."""
    path = tmp_path / "markers"
    path.mkdir()
    return path

