"""Fixtures: the built peep-hook wheel, a hooked venv, a local index, markers.

The pip under test and the wheelhouse holding it (and wrapt) come from the
environment, set by tox: PEEP_HOOK_TEST_PIP and PEEP_HOOK_TEST_WHEELHOUSE.
Nothing here touches the network.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests._support.index import Index
from tests._support.project import copy_source, source_digest
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
    once per run: xdist
    workers share the directory above their own base temps and its lock."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # this run's, not the user's, directory of runs
    shared = base / f"peep-hook-wheel-{source_digest()}"
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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
def make_venv(tmp_path_factory, wheelhouse, pip_version, hook_wheel):
    def make(*, hooked: bool = True) -> Venv:
        path = tmp_path_factory.mktemp("venv") / "env"
        return Venv.create(path, wheelhouse=wheelhouse, pip_version=pip_version,
                           hook_wheel=hook_wheel if hooked else None)
    return make


@pytest.fixture(scope="session")
def _shared_venv(make_venv) -> Venv:
    return make_venv()


@pytest.fixture
def venv(_shared_venv: Venv) -> Iterator[Venv]:
    """A venv with the pip under test and peep-hook; reset after each test."""
    yield _shared_venv
    _shared_venv.reset()


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
