"""A private copy of the base interpreter, for tests that change a stdlib directory.

The copy holds the binary, the shared libpython beside it and the standard
library without its tests, its build configuration and its site-packages
contents (site-packages is created empty). Python finds its prefix from the
binary's location, so the copy runs with its own stdlib and site-packages.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from tests._support.venvs import pip_wheel_in, run

VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"
_SKIPPED_TOP = {"test", "site-packages", "idlelib", "tkinter", "turtledemo", "__phello__"}


def copy_base_interpreter(dest: Path) -> Path:
    """Copy ``sys.base_prefix``'s interpreter to ``dest``; return the new binary."""
    base = Path(sys.base_prefix)
    binary = base / "bin" / f"python{VERSION}"
    stdlib = base / "lib" / f"python{VERSION}"
    (dest / "bin").mkdir(parents=True)
    (dest / "lib").mkdir()
    shutil.copy2(binary, dest / "bin" / binary.name)
    for alias in ("python3", "python"):
        os.symlink(binary.name, dest / "bin" / alias)
    for lib in (base / "lib").glob(f"libpython{VERSION}*.so*"):
        shutil.copy2(lib, dest / "lib" / lib.name, follow_symlinks=False)

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        if Path(directory) == stdlib:
            skipped |= {n for n in names if n in _SKIPPED_TOP or n.startswith("config-")}
        return skipped

    shutil.copytree(stdlib, dest / "lib" / stdlib.name, ignore=ignore, symlinks=True)
    (dest / "lib" / stdlib.name / "site-packages").mkdir()
    python = dest / "bin" / binary.name
    result = run([python, "-c", "import sys; print(sys.prefix); print(sys.base_prefix)"])
    assert result.returncode == 0, str(result)
    assert result.stdout.split() == [str(dest), str(dest)], str(result)
    return python


def stdlib_of(python: Path) -> Path:
    return python.parent.parent / "lib" / f"python{VERSION}"


def install_hook_into(target: Path, python: Path, wheelhouse: Path, hook_wheel: Path,
                      pip_version: str) -> Path:
    """peep-hook and wrapt in ``target`` (for PYTHONPATH), installed by
    ``python`` running the pip under test from its wheel."""
    pip_wheel = pip_wheel_in(wheelhouse, pip_version)
    installed = run([python, pip_wheel / "pip", "install", "-q", "--no-index", "--find-links",
                     wheelhouse, "--target", target, "wrapt", hook_wheel])
    assert installed.returncode == 0, str(installed)
    return target


def enable_global_hook(python: Path, tmp: Path, wheelhouse: Path, hook_wheel: Path,
                       pip_version: str) -> None:
    """``enable --global`` on ``python``, from the pip under test and the
    wheel of this checkout installed in ``tmp/target``."""
    target = install_hook_into(tmp / "target", python, wheelhouse, hook_wheel, pip_version)
    enabled = run([python, "-m", "peep_hook", "enable", "--global"],
                  env={"PYTHONPATH": str(target)}, cwd=tmp)
    assert enabled.returncode == 0, str(enabled)


def globally_hooked_interpreter(tmp: Path, wheelhouse: Path, hook_wheel: Path,
                                pip_version: str) -> Path:
    """A private copy of the base interpreter with peep-hook's global hook enabled."""
    python = copy_base_interpreter(tmp / "python")
    enable_global_hook(python, tmp, wheelhouse, hook_wheel, pip_version)
    return python
