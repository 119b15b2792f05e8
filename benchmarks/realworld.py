"""The real-world install benchmark's archives: 43 files from PyPI.

A web service's dependencies as pip resolved them for CPython 3.11 on Linux
(Flask, requests, SQLAlchemy, pydantic, boto3, rich, gunicorn, cryptography
and what they need), pinned, plus five setup.py-only sdists that pip must
build (with setuptools and wheel, pinned too, as build dependencies): 38
wheels and 5 sdists, about 30 MB. They are downloaded once in set-up (the
only network access) into a cache directory that later runs reuse, then
served from 127.0.0.1 like every other benchmark's archives.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

#: (project, version, kind): kind "wheel" is fetched with --only-binary,
#: "sdist" with --no-binary; both --no-deps, so the set never drifts.
ARCHIVES: tuple[tuple[str, str, str], ...] = (
    ("annotated_types", "0.8.0", "wheel"),
    ("antlr4-python3-runtime", "4.9.3", "sdist"),
    ("attrs", "23.2.0", "wheel"),
    ("blinker", "1.9.0", "wheel"),
    ("boto3", "1.34.144", "wheel"),
    ("botocore", "1.34.162", "wheel"),
    ("certifi", "2026.10.19.post1", "wheel"),
    ("cffi", "2.1.1", "wheel"),
    ("charset_normalizer", "3.5.3", "wheel"),
    ("click", "8.5.1", "wheel"),
    ("cryptography", "42.0.8", "wheel"),
    ("docopt", "0.6.2", "sdist"),
    ("flask", "3.0.3", "wheel"),
    ("future", "1.0.0", "sdist"),
    ("greenlet", "3.5.6", "wheel"),
    ("gunicorn", "22.0.0", "wheel"),
    ("idna", "3.20", "wheel"),
    ("itsdangerous", "2.2.0", "wheel"),
    ("jinja2", "3.1.6", "wheel"),
    ("jmespath", "1.1.0", "wheel"),
    ("markdown_it_py", "4.3.0", "wheel"),
    ("markupsafe", "3.0.4", "wheel"),
    ("mdurl", "0.1.2", "wheel"),
    ("packaging", "24.1", "wheel"),
    ("pathtools", "0.1.2", "sdist"),
    ("pycparser", "3.12", "wheel"),
    ("pydantic", "2.8.2", "wheel"),
    ("pydantic_core", "2.20.1", "wheel"),
    ("pygments", "2.21.0", "wheel"),
    ("pyperclip", "1.9.0", "sdist"),
    ("python_dateutil", "2.9.0.post0", "wheel"),
    ("pytz", "2024.1", "wheel"),
    ("PyYAML", "6.0.1", "wheel"),
    ("requests", "2.32.3", "wheel"),
    ("rich", "13.7.1", "wheel"),
    ("s3transfer", "0.10.4", "wheel"),
    ("setuptools", "70.3.0", "wheel"),
    ("six", "1.17.0", "wheel"),
    ("SQLAlchemy", "2.0.31", "wheel"),
    ("typing_extensions", "4.16.0", "wheel"),
    ("urllib3", "2.8.0", "wheel"),
    ("werkzeug", "3.1.9", "wheel"),
    ("wheel", "0.43.0", "wheel"),
)


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "peep-hook-benchmarks" / "realworld"


def project_of(filename: str) -> str:
    """The project name in an archive's file name (wheel or .tar.gz sdist)."""
    if filename.endswith(".whl"):
        return filename.split("-", 1)[0]
    return filename[: -len(".tar.gz")].rsplit("-", 1)[0]


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def fetch(cache: Path, download: Callable[[Sequence[str], Path], None]) -> list[Path]:
    """The archives in ``cache``, downloading the missing ones with
    ``download(pip_arguments, directory)`` (the caller's pip, from PyPI)."""
    cache.mkdir(parents=True, exist_ok=True)

    def have(name: str, version: str) -> bool:
        return any(_normal(project_of(p.name)) == _normal(name) and f"-{version}" in p.name
                   for p in cache.iterdir() if p.name.endswith((".whl", ".tar.gz")))

    for kind in ("wheel", "sdist"):
        missing = [f"{n}=={v}" for n, v, k in ARCHIVES if k == kind and not have(n, v)]
        if missing:
            binary = ["--only-binary=:all:"] if kind == "wheel" else ["--no-binary=:all:"]
            download(["--no-deps", *binary, *missing], cache)
    found = []
    for name, version, kind in ARCHIVES:
        matches = [p for p in cache.iterdir()
                   if _normal(project_of(p.name)) == _normal(name) and f"-{version}" in p.name
                   and p.name.endswith(".whl" if kind == "wheel" else ".tar.gz")]
        if len(matches) != 1:
            raise RuntimeError(f"{name}=={version} ({kind}): found {matches} in {cache}")
        found.append(matches[0])
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
