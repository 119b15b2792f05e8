"""This checkout's peep-hook sources: what its wheels are built from."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCE_FILES = ("peep_hook", "setup.py", "setup.cfg", "pyproject.toml", "README.rst", "LICENSE")


def copy_source(dest: Path) -> Path:
    """A copy to build from: setuptools' build dirs stay out of the checkout."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SOURCE_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, dest / name)
    return dest


def source_digest() -> str:
    """A digest of every file the wheel is built from: a changed source, a new wheel."""
    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        top = ROOT / name
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        for path in files:
            if "__pycache__" not in path.parts:
                digest.update(f"{path.relative_to(ROOT)}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
