"""Real virtual environments with a chosen pip, isolated from this machine's pip set-up."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

# Variables that would let this machine's configuration (or the test runner's
# own environment) leak into the pip under test.
_DROPPED_PREFIXES = ("PIP_", "PEEP_HOOK")
_DROPPED = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONNOUSERSITE"}


@functools.lru_cache(maxsize=None)
def _private_dir(purpose: str) -> str:
    return tempfile.mkdtemp(prefix=f"peep-hook-{purpose}-")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(_DROPPED_PREFIXES) and k not in _DROPPED
    }
    env.update(
        # Wheels built from sdists are kept here, not in this machine's user cache.
        PEEP_HOOK_BUILT_WHEELS=_private_dir("built-wheels"),
        # pip's HTTP and wheel caches: never this machine's user cache.
        PIP_CACHE_DIR=_private_dir("pip-cache"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PIP_NO_COLOR="1",
    )
    env.update(extra or {})
    return env


@dataclass
class Result:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"$ {' '.join(map(str, self.args))}\n-> exit {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


def run(args: Sequence[str | os.PathLike], *, env: Mapping[str, str] | None = None,
        cwd: Path | None = None, timeout: float = 300) -> Result:
    proc = subprocess.run(
        [str(a) for a in args], env=clean_env(env), cwd=cwd, capture_output=True,
        text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )
    return Result([str(a) for a in args], proc.returncode, proc.stdout, proc.stderr)


class Venv:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.bin = path / "bin"
        self.python = self.bin / "python"
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        self.site_packages = path / "lib" / version / "site-packages"
        self._baseline: set[str] = set()

    @classmethod
    def create(cls, path: Path, *, wheelhouse: Path, pip_version: str,
               hook_wheel: Path | None) -> Venv:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
        venv = cls(path)
        pip_wheel = next(wheelhouse.glob(f"pip-{pip_version}-*.whl"))
        wanted = [f"pip=={pip_version}"]
        if hook_wheel is not None:
            wanted += ["wrapt", str(hook_wheel)]
        result = run([venv.python, pip_wheel / "pip", "install", "-q", "--no-index",
                      "--find-links", wheelhouse, *wanted])
        assert result.returncode == 0, str(result)
        venv.snapshot()
        return venv

    def snapshot(self) -> None:
        """Remember what is installed now; :meth:`reset` returns to it."""
        self._baseline = set(os.listdir(self.site_packages))

    def reset(self) -> None:
        for name in set(os.listdir(self.site_packages)) - self._baseline:
            target = self.site_packages / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()

    def pip(self, *args: str | os.PathLike, env: Mapping[str, str] | None = None,
            cwd: Path | None = None) -> Result:
        """Run the pip console script, as a deploy script would."""
        return run([self.bin / "pip", *args], env=env, cwd=cwd)

    def python_run(self, *args: str | os.PathLike, env: Mapping[str, str] | None = None) -> Result:
        return run([self.python, *args], env=env)

    def installed(self, name: str) -> bool:
        return any(self.site_packages.glob(f"{name}-*.dist-info"))
