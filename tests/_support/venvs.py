"""Real virtual environments with a chosen pip, isolated from this machine's pip set-up.

Making one runs ``venv`` and pip (seconds); :meth:`Venv.copy` copies a made
one (a fraction of that) and fixes the few places that name the original's
directory, so that the copy is a venv of its own.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
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
        pip_wheel = pip_wheel_in(wheelhouse, pip_version)
        wanted = [f"pip=={pip_version}"]
        if hook_wheel is not None:
            wanted += ["wrapt", str(hook_wheel)]
        result = run([venv.python, pip_wheel / "pip", "install", "-q", "--no-index",
                      "--find-links", wheelhouse, *wanted])
        assert result.returncode == 0, str(result)
        venv.snapshot()
        return venv

    def copy(self, dest: Path) -> Venv:
        """A copy of this venv at ``dest``, sharing nothing with it.

        Only text written at creation names the original's directory: the
        console scripts' shebangs, the activation scripts and pyvenv.cfg's
        ``command``. Those are rewritten, and the RECORD rows of the scripts
        get their new hashes. (``python`` links to the base interpreter, the
        .pth files hold imports, RECORD paths are relative, and Python fixes
        the source paths in byte code as it loads it.)
        """
        shutil.copytree(self.path, dest, symlinks=True)
        rewritten = _replace_in([*(dest / "bin").iterdir(), dest / "pyvenv.cfg"],
                                str(self.path), str(dest))
        copied = Venv(dest)
        for record in copied.site_packages.glob("*.dist-info/RECORD"):
            _rehash_rows(record, copied.site_packages, rewritten)
        copied.snapshot()
        return copied

    def see_system_site_packages(self) -> None:
        """Include the system site-packages, as ``venv --system-site-packages``
        does. Python then switches the user site back on: ``pip install --user``
        is allowed. This venv's own site-packages still come first."""
        cfg = self.path / "pyvenv.cfg"
        text = cfg.read_text()
        assert "include-system-site-packages = false" in text, text
        cfg.write_text(text.replace("include-system-site-packages = false",
                                    "include-system-site-packages = true"))

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


def pip_wheel_in(wheelhouse: Path, pip_version: str) -> Path:
    """The wheel of the pip under test."""
    return next(wheelhouse.glob(f"pip-{pip_version}-*.whl"))


def _replace_in(paths: list[Path], old: str, new: str) -> set[str]:
    """Replace ``old`` by ``new`` in the regular files among ``paths``; return
    the (normalised) paths of those changed."""
    changed = set()
    for path in paths:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if old.encode() in data:
            path.write_bytes(data.replace(old.encode(), new.encode()))
            changed.add(os.path.normpath(path))
    return changed


def _rehash_rows(record: Path, site_packages: Path, changed: set[str]) -> None:
    """Give the RECORD rows of the ``changed`` files their new hash and size."""
    rows = list(csv.reader(io.StringIO(record.read_text())))
    mine = [row for row in rows if row and os.path.normpath(site_packages / row[0]) in changed]
    if not mine:
        return
    for row in mine:
        data = (site_packages / row[0]).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()
        row[1:3] = [f"sha256={digest.rstrip('=')}", str(len(data))]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    record.write_text(out.getvalue())
