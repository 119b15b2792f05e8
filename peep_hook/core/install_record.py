"""The record of which verified archive an installed distribution came from.

pip (and peep) trust whatever is installed: a requirement "already satisfied"
is never checked. peep-hook writes the SHA-256 of the archive it verified into
the distribution's ``.dist-info`` (listed in RECORD, so uninstalling removes
it). When pip would skip a requirement as already satisfied, the record must
be one of today's hashes (for a URL or path requirement, the archive verified
in this run); otherwise pip reinstalls it from the archive it verifies now
(:mod:`peep_hook.hook.reinstall`).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from typing import Iterable, NamedTuple

from peep_hook.core import bytecode
from peep_hook.core.hashed_pins import canonical_name

RECORD_NAME = "PEEP_HOOK.json"
#: where the wheels built from verified sdists are kept, instead of the default
BUILT_WHEELS_ENV = "PEEP_HOOK_BUILT_WHEELS"


def write_record(name: str, wheel_path: str, lib_dirs: Iterable[str], sha256: str) -> str | None:
    """Write the record beside a freshly installed wheel's metadata; return its path."""
    lib_dirs = list(dict.fromkeys(lib_dirs))
    # The wheel's file name gives its .dist-info name; look inside it only if not.
    parts = os.path.basename(wheel_path).split("-")
    candidates = [f"{parts[0]}-{parts[1]}.dist-info"] if len(parts) >= 5 else []
    for dist_info in candidates + [None]:
        if dist_info is None:
            dist_info = _dist_info_in(wheel_path)
            if dist_info is None:
                return None
        for lib in lib_dirs:
            directory = os.path.join(lib, dist_info)
            if os.path.isdir(directory):
                return _write(directory, dist_info, name, sha256)
    return None


def _dist_info_in(wheel_path: str) -> str | None:
    with zipfile.ZipFile(wheel_path) as zf:
        return next(
            (n.split("/", 1)[0] for n in zf.namelist()
             if n.split("/", 1)[0].endswith(".dist-info")),
            None,
        )


def _write(directory: str, dist_info: str, name: str, sha256: str) -> str:
    record: dict[str, object] = {"name": name, "sha256": sha256}
    compiled = _compiled_bytecode(directory)
    if compiled:
        record["bytecode"] = compiled
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    path = os.path.join(directory, RECORD_NAME)
    with open(path, "wb") as f:
        f.write(data)
    digest = _urlsafe_sha256(data)
    with open(os.path.join(directory, "RECORD"), "a", encoding="utf-8") as f:
        f.write(f"{dist_info}/{RECORD_NAME},sha256={digest},{len(data)}\n")
    return path


def _urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def _compiled_bytecode(directory: str) -> dict[str, str]:
    """RECORD path -> sha256 (as RECORD writes it) of each ``.pyc`` this Python
    would load for its source, right after pip compiled them: pip lists them
    without a hash (or with the wheel's own, stale, hash), and ``verify``
    compiles only those whose hash changed since. A ``.pyc`` pip did not write
    (one whose header does not match its source) is left for ``verify`` to
    compile."""
    lib = os.path.dirname(directory)
    try:
        with open(os.path.join(directory, "RECORD"), encoding="utf-8", newline="") as f:
            paths = [row[0] for row in csv.reader(f) if row and row[0].endswith(".pyc")]
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    found = {}
    for path in paths:
        full = os.path.normpath(os.path.join(lib, path))
        where = bytecode.source_of(full)
        if where is None or where.tag != bytecode.TAG:
            continue
        try:
            with open(full, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if bytecode.header_matches(data, where.source):
            found[path] = "sha256=" + _urlsafe_sha256(data)
    return found


def read_record(location: str | None, name: str | None, version: str) -> str | None:
    """The sha256 recorded for an installed distribution, or None if there is none."""
    if not location or not name or not os.path.isdir(location):
        return None
    # The usual directory names first (one stat each), listing the directory
    # only for unusual spellings of the name or version.
    for spelling in dict.fromkeys((name, name.replace("-", "_"),
                                   canonical_name(name).replace("-", "_"))):
        directory = os.path.join(location, f"{spelling}-{version}.dist-info")
        if os.path.isdir(directory):
            return _load(directory)
    wanted, wanted_version = canonical_name(name), _normal_version(version)
    for entry in os.listdir(location):
        if not entry.endswith(".dist-info"):
            continue
        entry_name, _, entry_version = entry[: -len(".dist-info")].rpartition("-")
        if (canonical_name(entry_name) == wanted
                and _normal_version(entry_version) == wanted_version):
            return _load(os.path.join(location, entry))
    return None


def _load(directory: str) -> str | None:
    """The hook's view: a record that cannot be read, or holds no sha256, is
    none, and the distribution is reinstalled (fail closed)."""
    try:
        return load_record(directory).sha256
    except (OSError, ValueError):
        return None


class Record(NamedTuple):
    """What a ``PEEP_HOOK.json`` says."""

    #: the verified archive's sha256; None unless 64 lower-case hex digits, as
    #: peep-hook writes it: anything else is no record of a verified archive
    sha256: str | None
    #: RECORD path -> hash of each ``.pyc`` pip compiled at install
    bytecode: dict[str, str]


_SHA256_RE = re.compile(r"[0-9a-f]{64}")


def load_record(directory: str) -> Record:
    """Read the record in a ``.dist-info`` directory, for the hook and ``verify``
    alike. Raises OSError (FileNotFoundError if there is none) or ValueError."""
    with open(os.path.join(directory, RECORD_NAME), encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{RECORD_NAME} holds no JSON object")
    sha256, compiled = data.get("sha256"), data.get("bytecode")
    return Record(
        sha256 if isinstance(sha256, str) and _SHA256_RE.fullmatch(sha256) else None,
        {k: v for k, v in compiled.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(compiled, dict) else {})


def _normal_version(version: str) -> str:
    # Enough of PEP 440 normalisation for directory names: case, a leading
    # "v", and "-"/"_" separators (an unusual spelling only costs a reinstall).
    return version.strip().lower().lstrip("v").replace("-", ".").replace("_", ".")


# -- wheels built from verified sdists --------------------------------------------
#
# No archive holds the files of a distribution built from an sdist, so the
# wheel pip built from it at install is kept outside site-packages, under the
# verified sdist's sha256: ``<dir>/<sdist sha256>/<wheel file>``. ``verify
# --deep`` compares the installed files with it, finding it by the sha256 the
# requirements files give, never by anything in site-packages.


def built_wheels_dir() -> str:
    """``$PEEP_HOOK_BUILT_WHEELS``, else peep-hook's directory in the user's cache."""
    configured = os.environ.get(BUILT_WHEELS_ENV)
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "peep-hook", "built-wheels")


def keep_built_wheel(wheel_path: str, sdist_sha256: str) -> str:
    """Copy the wheel built from the sdist with ``sdist_sha256``; return where it is.
    Written under a temporary name and renamed: a reader never sees half a wheel."""
    directory = os.path.join(built_wheels_dir(), sdist_sha256)
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, os.path.basename(wheel_path))
    fd, temporary = tempfile.mkstemp(dir=directory, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, open(wheel_path, "rb") as source:
            shutil.copyfileobj(source, out)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target
