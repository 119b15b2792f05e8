"""A verified sdist whose build backend runs pip, as legacy ``setup.py`` files
do: the pip below a protected pip run (tests/test_nested_pip.py, and the
global hook's scenario in tests/test_global.py)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from tests._support.archives import Archive, backend_wheel, sdist
from tests._support.index import Index


def pip_running_backend(name: str, version: str, *, marker_dir: Path, index_url: str,
                        requirement: str, in_process: bool) -> Archive:
    """A build backend that runs pip to install ``requirement`` from
    ``index_url`` when imported: ``python -m pip install`` in a child
    process, or pip's ``main()`` in its own process. If that pip fails, so
    does the build."""
    args = ["install", "--no-cache-dir", "-i", index_url, requirement]
    if in_process:
        run = f"from pip._internal.cli.main import main; status = main({args!r})"
    else:
        run = ("import subprocess, sys; "
               f"status = subprocess.call([sys.executable, '-m', 'pip', *{args!r}])")
    payload = (f"{run}; status and __import__('sys').exit("
               "'the pip this backend ran exited with %s' % status)")
    return backend_wheel(name, version, marker_dir=marker_dir, payload=payload)


class NestedPip(NamedTuple):
    requirements: Path  # the sdist, hashed
    constraints: Path  # its build dependencies (the backend and pip), hashed
    helper: Archive  # what the backend's pip asks for: never hashed


def publish_nested_pip_project(index: Index, markers: Path, pip_wheel: Path, where: Path, *,
                               in_process: bool, suffix: str = "") -> NestedPip:
    """Publish an sdist ``app`` whose backend (``pipbackend``) runs pip for
    ``helperlib`` (an sdist whose build leaves ``markers/helperlib-1.0``) and
    write the files that verify ``app`` and its build dependencies into
    ``where``. ``suffix`` is added to the three names: one project per run
    where environments are not reset."""
    backend = pip_running_backend(f"pipbackend{suffix}", "1.0", marker_dir=markers,
                                  index_url=index.url, requirement=f"helperlib{suffix}",
                                  in_process=in_process)
    pip = Archive("pip", pip_wheel.name.split("-")[1], pip_wheel.name, pip_wheel.read_bytes())
    app = sdist(f"app{suffix}", "1.0", marker_dir=markers, backend=backend.name,
                build_requires=[backend.name, "pip"])
    helper = sdist(f"helperlib{suffix}", "1.0", marker_dir=markers)
    index.publish(backend, pip, app, helper)
    where.mkdir(parents=True, exist_ok=True)
    requirements = where / "requirements.txt"
    requirements.write_text(app.peep_block())
    constraints = where / "build-constraints.txt"
    constraints.write_text(backend.peep_block() + pip.peep_block())
    return NestedPip(requirements, constraints, helper)
