"""``peep-hook verify``: is this environment what its requirements files say,
and unmodified since it was installed?

Four checks, over every distribution in the site-packages directories:

* **installed files**: every file a distribution's ``RECORD`` lists with a
  hash still has that hash and size (modified and missing files are
  reported), and no file that no ``RECORD`` lists sits among them (a dropped
  ``.pth`` or module runs as surely as a modified one).
* **byte code**: every ``.pyc`` this Python would load in place of a verified
  source, listed in ``RECORD`` or not (pip lists what it compiles without a
  hash; Python writes caches itself), holds the code that source compiles to
  (:mod:`peep_hook.core.bytecode`), whoever wrote it: a wheel's own ``.pyc`` that
  pip recompiled passes, a ``.pyc`` with other code is reported. One that
  still has the hash the peep-hook record kept when pip compiled it needs no
  compiling (except with ``--deep``, which takes nothing in site-packages on
  trust: :mod:`peep_hook.commands.verify_deep`). A ``.pyc`` without its source
  (sourceless) or for another Python can only be checked against its
  ``RECORD`` hash.
* **install records**: the ``PEEP_HOOK.json`` peep-hook writes beside a
  distribution it installed (:mod:`peep_hook.core.install_record`) names the sha256 of
  the verified archive. With requirements files, that hash must be one the
  files give for the distribution (peep comment or ``--hash``); without files,
  a record must exist.
* **extras**: with files, a distribution no file names is extra, unless it is
  pip, setuptools, wheel or peep-hook itself (with wrapt). ``--allow-extra``
  accepts extras that peep-hook installed (they still need a record).

Requirements files are read as ``peep-hook check`` reads them
(:mod:`peep_hook.commands.check`), without pip or packaging, so this runs with only the
standard library, anywhere. Files are hashed with pip's chunk size (1 MiB).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import os
import platform
import re
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from peep_hook.commands import check
from peep_hook.core import bytecode, install_record
from peep_hook.core.hashed_pins import canonical_name
from peep_hook.core.hashes import CHUNK
from peep_hook.core.install_record import RECORD_NAME
from peep_hook.core.reqfile import (
    CONSTRAINTS,
    REQUIREMENTS,
    FileHashes,
    LogicalLine,
    hash_options,
    parse_requirement,
    read_requirements_file,
)

#: never extra: what makes and runs an environment, and peep-hook with its dependency
TOOLING = frozenset({"pip", "setuptools", "wheel", "peep-hook", "wrapt"})

# Problem kinds, in the order the report shows them.
KINDS = (
    "requirements-file",  # the files themselves cannot be read or have hash problems
    "pin-conflict",       # lines that pin different versions of one project
    "modified",           # an installed file's hash or size differs from its RECORD
    "archive-mismatch",   # --deep: installed differently from its verified archive
    "missing",            # a file its RECORD lists is gone
    "unreadable",         # a file its RECORD lists cannot be read (permissions?)
    "unhashed",           # RECORD lists a file without a hash: it cannot be checked
    "bytecode-unchecked",  # .pyc of another Python, without a hash: cannot be compared
    "no-RECORD",          # a distribution without RECORD (legacy install): not checkable
    "unowned",            # a file no RECORD lists, among installed files
    "no-record",          # no peep-hook record: installed without the hook, or before it
    "bad-record",         # a peep-hook record that cannot be read
    "hash-not-in-files",  # installed from an archive whose hash no file gives for it
    "extra",              # installed, but no file names it
    "not-installed",      # a file requires it, it is not installed
    "no-archive",         # --deep: no verified archive to check it against (and why)
)

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass
class Problem:
    kind: str
    message: str
    distribution: str | None = None
    version: str | None = None
    path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "distribution": self.distribution,
                "version": self.version, "path": self.path}


@dataclass
class Named:
    """What the files say about one project."""

    where: list[str] = field(default_factory=list)  # "file:line" of each line naming it
    hexes: set[str] = field(default_factory=set)  # sha256 values the files give
    required: bool = False  # a requirement without marker: must be installed
    #: version (equal releases spelled alike) -> "file:line pins <version>" of
    #: each line without a marker that pins it
    versions: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Distribution:
    name: str
    version: str | None
    location: str  # the site-packages directory
    metadata_dir: str  # its .dist-info (or .egg-info, .egg-link) entry
    record: str | None = None  # sha256 of the archive peep-hook verified
    named_by: list[str] = field(default_factory=list)
    extra: bool = False
    files: int = 0
    bytes: int = 0
    #: what its files were checked against: "record", "archive", or "built-wheel"
    #: (the wheel built at install from its verified sdist, kept outside site-packages)
    basis: str = "record"
    basis_reason: str | None = None  # --deep: why not against an archive
    #: --deep: its "#!python" scripts proven against their members, whose RECORD
    #: rows pip 20.3 leaves with the member's hash (it never rehashes them)
    shebang_fixed: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return canonical_name(self.name)

    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "location": self.location,
                "metadata": self.metadata_dir, "record": self.record,
                "named_by": self.named_by, "extra": self.extra, "files": self.files,
                "bytes": self.bytes, "basis": self.basis, "basis_reason": self.basis_reason}


@dataclass
class Result:
    site_dirs: list[str]
    requirement_files: list[str]
    allow_extra: bool
    archives: str | None = None  # --deep: where the archives came from
    distributions: list[Distribution] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_hashed: int = 0
    bytes_hashed: int = 0
    bytecode_checked: int = 0  # .pyc files compared with their source's code
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not self.problems

    def add(self, kind: str, message: str, dist: Distribution | None = None,
            path: str | None = None) -> None:
        self.problems.append(Problem(kind, message, dist.name if dist else None,
                                     dist.version if dist else None, path))

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "interpreter": sys.executable,
            "python": platform.python_version(),
            "site_packages": self.site_dirs,
            "requirement_files": self.requirement_files,
            "allow_extra": self.allow_extra,
            "deep": self.archives is not None,
            "archives": self.archives,
            "checked": {"distributions": len(self.distributions), "files": self.files_hashed,
                        "bytes": self.bytes_hashed, "bytecode": self.bytecode_checked,
                        "seconds": round(self.seconds, 3)},
            "distributions": [d.as_dict() for d in self.distributions],
            "problems": [p.as_dict() for p in self.problems],
            "notes": self.notes,
        }


def default_site_dirs() -> list[str]:
    """The running interpreter's purelib and platlib (a venv's own, in a venv)."""
    paths = sysconfig.get_paths()
    return [d for d in (paths["purelib"], paths["platlib"]) if os.path.isdir(d)]


def verify(requirements: Sequence[str] = (), constraints: Sequence[str] = (), *,
           site_dirs: Sequence[str] | None = None, allow_extra: bool = False,
           archives: str | None = None, deep: bool = False,
           built_wheels: str | None = None, pip_args: Sequence[str] = ()) -> Result:
    """``deep``, or ``archives`` (a directory): ``--deep``, against the archives in
    that directory, or else as pip gets them with ``pip_args``
    (:mod:`peep_hook.commands.verify_deep`);
    ``built_wheels``: where the wheels built from verified sdists are kept."""
    started = time.perf_counter()
    deep = deep or archives is not None
    dirs = _unique_dirs(default_site_dirs() if site_dirs is None else site_dirs)
    files = [*requirements, *constraints]
    result = Result(dirs, files, allow_extra, archives if archives is not None
                    else "pip's indexes" if deep else None)
    named, unnamed = _read_files(requirements, constraints, result) if files else ({}, [])
    for site in dirs:
        dists = _distributions(site)
        result.distributions.extend(dists)
        _check_installed_files(site, dists, result, trust_record=not deep)
    _check_records(result, named, unnamed, bool(files))
    if deep:
        given = [(p, False) for p in requirements] + [(p, True) for p in constraints]
        _deep(result, named, unnamed, archives, given, pip_args, built_wheels)
    result.seconds = time.perf_counter() - started
    result.problems.sort(key=lambda p: KINDS.index(p.kind))
    return result


# -- what the files say ------------------------------------------------------------


class _FileReader(check.Checker):
    """``peep-hook check``'s walk over files and their -r/-c includes, keeping
    each requirement's name and hashes instead of linting it."""

    def __init__(self) -> None:
        super().__init__(read_requirements_file)
        self.named: dict[str, Named] = {}
        self.unnamed: list[tuple[str, set[str], bool]] = []  # where, hashes, required

    def requirement(self, where: check.Finding, logical: LogicalLine, hashes: FileHashes,
                     kind: str) -> None:
        req = parse_requirement(logical.text)
        at = f"{where.filename}:{where.lineno}"
        if req is None:
            self.find(where, f"cannot read a requirement from {logical.text!r}")
            return
        hexes = {h.hex for h in hashes.hashes_for(logical.lineno) if h.hex is not None}
        for option in hash_options(req.options):
            if option.sha256 is not None:
                hexes.add(option.sha256)
            elif option.problem:
                self.find(where, option.problem)
        required = kind == REQUIREMENTS and not req.has_marker
        if req.key is None:
            self.unnamed.append((at, hexes, required))
            return
        entry = self.named.setdefault(req.key, Named())
        entry.where.append(at)
        entry.hexes |= hexes
        entry.required = entry.required or required
        if req.version is not None and not req.has_marker:
            entry.versions.setdefault(_same_release(req.version), []).append(
                f"{at} pins {req.version}")


def _read_files(requirements: Sequence[str], constraints: Sequence[str],
                result: Result) -> tuple[dict[str, Named], list[tuple[str, set[str], bool]]]:
    reader = _FileReader()
    for path in requirements:
        reader.visit(path, REQUIREMENTS, None)
    for path in constraints:
        reader.visit(path, CONSTRAINTS, None)
    report = reader.finish()
    # What 'check' finds in how the files give hashes (unreadable files,
    # malformed or stray hash lines) makes their word unreliable: a problem.
    for finding in report.findings:
        result.add("requirements-file", str(finding))
    for key, entry in sorted(reader.named.items()):
        if len(entry.versions) > 1:
            pins = "; ".join(", ".join(lines) for lines in entry.versions.values())
            result.add("pin-conflict", f"{key}: {pins}. No environment satisfies "
                       "them all; installing one file after the other swaps one version "
                       "for the other. Pin one version everywhere.")
    result.notes.extend(str(note) for note in report.notes)
    return reader.named, reader.unnamed


def _same_release(version: str) -> str:
    """A version spelled so that equal plain releases compare equal (1.0 and
    1.0.0); other versions as written, in lower case."""
    text = version.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)*", text):
        parts = [str(int(p)) for p in text.split(".")]
        while len(parts) > 1 and parts[-1] == "0":
            parts.pop()
        return ".".join(parts)
    return text


# -- what is installed -------------------------------------------------------------


def _distributions(site: str) -> list[Distribution]:
    found = []
    for entry in sorted(os.listdir(site)):
        if entry.endswith(".dist-info") and os.path.isdir(os.path.join(site, entry)):
            name, _, version = entry[: -len(".dist-info")].rpartition("-")
        elif entry.endswith(".egg-info"):
            name, _, version = entry[: -len(".egg-info")].partition("-")
            version = version.split("-")[0]
        elif entry.endswith(".egg-link"):
            name, version = entry[: -len(".egg-link")], ""
        else:
            continue
        found.append(Distribution(name or entry, version or None, site, entry))
    return found


@dataclass
class _Task:
    dist: Distribution
    path: str  # as RECORD writes it
    full: str
    algorithm: str | None  # None: no hash in RECORD (bytecode pip compiled)
    digest: str  # urlsafe base64, unpadded
    size: int | None


def _check_installed_files(site: str, dists: list[Distribution], result: Result, *,
                           trust_record: bool = True) -> None:
    owned: set[str] = set()
    tasks: list[_Task] = []
    listed_pycs: dict[str, _Task] = {}
    compiled: dict[str, str] = {}  # .pyc -> its hash as pip compiled it, from the record
    for dist in dists:
        meta = os.path.join(site, dist.metadata_dir)
        if not dist.metadata_dir.endswith(".dist-info"):
            result.add("no-RECORD", f"{dist.label()}: {dist.metadata_dir} has no RECORD "
                       "(installed by setup.py or as editable): its files cannot be checked",
                       dist, meta)
            owned.update(_legacy_files(site, meta))
            continue
        record = os.path.join(meta, "RECORD")
        try:
            with open(record, encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            result.add("no-RECORD", f"{dist.label()}: cannot read {record}: "
                       f"{getattr(exc, 'strerror', None) or exc}", dist, record)
            owned.update(_all_files(meta))
            continue
        owned.add(record)
        if trust_record:
            compiled.update((full_path(site, path), digest)
                            for path, digest in _recorded_bytecode(meta).items())
        for row in rows:
            task = _task(site, dist, row, result)
            if task is None:
                if row and row[0]:
                    owned.add(full_path(site, row[0]))
                continue
            owned.add(task.full)
            if task.path.endswith(".pyc"):
                listed_pycs[task.full] = task
            else:
                tasks.append(task)
    # One thread: hashing in a pool of threads measured no faster here (2
    # cores: at best 5 % less time for 25 % more CPU).
    verified = {task.full: task for task in tasks
                if _judge(task, _hash_one(task), result) and task.path.endswith(".py")}
    cached = _find_unowned(site, owned, result)
    # --deep compiles every .pyc: in a pool of processes (plain verify, one).
    _check_bytecode(listed_pycs, cached, verified, compiled, result, pool=not trust_record)


def _task(site: str, dist: Distribution, row: list[str], result: Result) -> _Task | None:
    if not row or not row[0] or row[0].endswith("/"):
        return None
    path = row[0]
    full = full_path(site, path)
    value = row[1] if len(row) > 1 else ""
    if not value:
        if path.endswith(".pyc"):
            return _Task(dist, path, full, None, "", None)
        if path in _unhashed_ok(dist):
            return None
        result.add("unhashed", f"{dist.label()}: {path} has no hash in RECORD, so it cannot "
                   "be checked", dist, full)
        return None
    algorithm, _, digest = value.partition("=")
    if algorithm not in hashlib.algorithms_guaranteed or algorithm in ("md5", "sha1"):
        result.add("unhashed", f"{dist.label()}: {path}: RECORD's hash {value!r} is not a "
                   "hash it may use", dist, full)
        return None
    size_text = row[2] if len(row) > 2 else ""
    size = int(size_text) if size_text.isdigit() else None
    return _Task(dist, path, full, algorithm, digest.rstrip("="), size)


def full_path(site: str, path: str) -> str:
    """A RECORD path, joined to the site directory it is relative to."""
    # The usual RECORD path needs no normalizing, which costs more than the
    # rest of reading its row.
    if os.sep == "/" and "/." not in "/" + path and "//" not in path and path[:1] != "/":
        return f"{site}/{path}"
    return os.path.normpath(os.path.join(site, path))


def _unhashed_ok(dist: Distribution) -> tuple[str, ...]:
    """What RECORD may list without a hash (besides the bytecode pip compiles):
    RECORD itself and its signatures."""
    return tuple(f"{dist.metadata_dir}/{name}" for name in ("RECORD", "RECORD.jws", "RECORD.p7s"))


def _hash_one(task: _Task) -> tuple[str | None, int, str | None]:
    """(urlsafe digest or None, size, error), read as pip reads: 1 MiB at a time.

    Plain descriptors, and reads no longer than the file: most installed files
    are small, and a buffered file object or a 1 MiB buffer for each costs more
    than hashing it.
    """
    assert task.algorithm is not None
    try:
        fd = os.open(task.full, _READ_FLAGS)
    except FileNotFoundError:
        return None, -1, "missing"
    except OSError as exc:
        return None, -1, exc.strerror or str(exc)
    try:
        size = os.fstat(fd).st_size
        if task.size is not None and size != task.size:
            return None, size, None  # modified: no need to hash
        digest = hashlib.new(task.algorithm)
        read = 0
        while True:
            # One byte past the expected end, to notice a file that grew.
            chunk = os.read(fd, min(CHUNK, size - read + 1) if read <= size else CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            read += len(chunk)
    except OSError as exc:
        return None, -1, exc.strerror or str(exc)
    finally:
        os.close(fd)
    return _urlsafe(digest.digest()), read, None


def _urlsafe(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _judge(task: _Task, outcome: tuple[str | None, int, str | None], result: Result) -> bool:
    """Report what is wrong with a file; True when it matches its RECORD hash."""
    digest, size, error = outcome
    dist = task.dist
    if error == "missing":
        result.add("missing", f"{dist.label()}: {task.path} is missing", dist, task.full)
        return False
    if error is not None:
        result.add("unreadable", f"{dist.label()}: {task.path} cannot be read: {error}",
                   dist, task.full)
        return False
    result.files_hashed += 1
    result.bytes_hashed += size
    dist.files += 1
    dist.bytes += size
    if task.size is not None and size != task.size:
        result.add("modified", f"{dist.label()}: {task.path} has {size} bytes, RECORD says "
                   f"{task.size}", dist, task.full)
        return False
    if digest != task.digest:
        result.add("modified", f"{dist.label()}: {task.path} does not match its "
                   f"{task.algorithm} in RECORD", dist, task.full)
        return False
    return True


def _legacy_files(site: str, meta: str) -> Iterable[str]:
    """What an .egg-info's installed-files.txt lists (no hashes: ownership only)."""
    yield from _all_files(meta)
    if os.path.isdir(meta):
        try:
            with open(os.path.join(meta, "installed-files.txt"), encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield os.path.normpath(os.path.join(meta, line.strip()))
        except OSError:
            pass
    else:
        yield os.path.normpath(meta)


def _all_files(directory: str) -> Iterable[str]:
    for root, _, names in os.walk(directory):
        for name in names:
            yield os.path.normpath(os.path.join(root, name))


def _find_unowned(site: str, owned: set[str], result: Result) -> list[str]:
    """Report files among the installed ones that no RECORD lists; return the
    ``.pyc`` files no RECORD lists in their ``__pycache__`` directories (Python
    writes those itself: :func:`_check_bytecode` judges them by their code)."""
    site = os.path.normpath(site)
    parents: set[str] = set()
    for path in owned:
        parent = os.path.dirname(path)
        while parent.startswith(site + os.sep) and parent not in parents:
            parents.add(parent)
            parent = os.path.dirname(parent)
    unowned: list[str] = []
    cached: list[str] = []
    for root, dirs, names in os.walk(site):
        keep = []
        for d in dirs:
            full = os.path.join(root, d)
            if os.path.islink(full):
                if full not in parents:
                    unowned.append(full + os.sep)
            elif full in parents or d == "__pycache__":
                keep.append(d)
            elif _holds_code(full):
                unowned.append(full + os.sep)
        dirs[:] = keep
        in_cache = os.path.basename(root) == "__pycache__"
        for name in names:
            full = os.path.join(root, name)
            if full in owned:
                continue
            (cached if in_cache and name.endswith(".pyc") else unowned).append(full)
    for path in sorted(unowned):
        shown = os.path.relpath(path, site) + (os.sep if path.endswith(os.sep) else "")
        result.add("unowned", f"{shown}: no distribution's RECORD lists it", None, path)
    return cached


def _holds_code(directory: str) -> bool:
    """Whether a directory no RECORD knows holds any file but cached bytecode
    (an empty one, or one left with only __pycache__, is harmless: Python
    loads no __pycache__ entry without its source)."""
    return any(not (name.endswith(".pyc") and os.path.basename(root) == "__pycache__")
               for root, _, names in os.walk(directory) for name in names)


# -- byte code against its source --------------------------------------------------


def _recorded_bytecode(meta: str) -> dict[str, str]:
    """What the peep-hook record says pip compiled at install (RECORD path ->
    hash): a ``.pyc`` that still has that hash needs no compiling, as a file
    that still has its RECORD hash needs no other check."""
    try:
        return install_record.load_record(meta).bytecode
    except (OSError, ValueError):
        return {}


def _check_bytecode(listed: dict[str, _Task], cached: list[str], verified: dict[str, _Task],
                    compiled: dict[str, str], result: Result, *, pool: bool = False) -> None:
    """Each ``.pyc`` this Python would load for a verified source must hold the
    code that source compiles to (or be, unchanged, what pip compiled from it at
    install); the rest are checked against RECORD where it gives a hash. Python
    loads no ``__pycache__`` entry without its source, and nothing in place of a
    source that another check already reported."""
    other: dict[str, tuple[Distribution, list[str]]] = {}  # .pyc of another Python
    sourceless: dict[str, int] = {}
    compare: list[tuple[str, _Task, bytecode.Job]] = []
    for full in sorted({*listed, *cached}):
        task = listed.get(full)
        where = bytecode.source_of(full)
        source = verified.get(where.source) if where is not None else None
        if where is not None and source is not None and _ours(full, where):
            if not _as_compiled(full, compiled.get(full), source.dist, result):
                job = _read_pair(full, where, source, result)
                if job is not None:
                    compare.append((full, source, job))
        elif task is not None and task.algorithm is not None:
            _judge(task, _hash_one(task), result)
            if where is not None and where.tag is None and not os.path.lexists(where.source):
                label = task.dist.label()
                sourceless[label] = sourceless.get(label, 0) + 1
        elif source is not None:
            other.setdefault(source.dist.label(), (source.dist, []))[1].append(full)
        elif (task is not None and where is not None and where.tag is None
              and not os.path.lexists(where.source)):
            result.add("unhashed", f"{task.dist.label()}: {task.path} is imported in place of "
                       "a source it does not have, and RECORD gives it no hash: it cannot be "
                       "checked", task.dist, full)
    result.bytecode_checked += len(compare)
    found = bytecode.mismatches([job for _, _, job in compare], pool=pool)
    for (full, source, _), why in zip(compare, found):
        if why is not None:
            dist = source.dist
            result.add("modified", f"{dist.label()}: {os.path.relpath(full, dist.location)}: "
                       f"{why} ({source.path})", dist, full)
    for label, count in sourceless.items():
        result.notes.append(f"{label}: {count} .pyc file{'s' * (count != 1)} without source "
                            "(sourceless): checked against RECORD only")
    for label, (dist, paths) in other.items():
        result.add("bytecode-unchecked", f"{label}: {len(paths)} .pyc file"
                   f"{'s' * (len(paths) != 1)} of another Python (such as "
                   f"{os.path.relpath(paths[0], dist.location)}) without a hash in RECORD: "
                   "only the Python that loads them can compare them with their source; run "
                   "verify with the environment's own Python", dist, paths[0])


def _as_compiled(full: str, recorded: str | None, dist: Distribution, result: Result) -> bool:
    """Whether a ``.pyc`` still has the hash pip's compilation gave it."""
    if recorded is None:
        return False
    algorithm, _, digest = recorded.partition("=")
    if algorithm != "sha256":
        return False
    task = _Task(dist, full, full, algorithm, digest, None)
    found, size, error = _hash_one(task)
    if error is not None or found != digest:
        return False
    result.files_hashed += 1
    result.bytes_hashed += size
    dist.files += 1
    dist.bytes += size
    return True


def _ours(full: str, where: bytecode.Cached) -> bool:
    """Whether this Python would write (and load) the ``.pyc``: its cache tag,
    or for a legacy ``X.pyc`` beside its source, its magic number."""
    if where.tag is not None:
        return where.tag == bytecode.TAG
    try:
        with open(full, "rb") as f:
            return f.read(4) == importlib.util.MAGIC_NUMBER
    except OSError:
        return True  # _read_pair reports it unreadable


def _read_pair(full: str, where: bytecode.Cached, source: _Task,
               result: Result) -> bytecode.Job | None:
    """The ``.pyc`` and its source to compare, read once; None when there is
    nothing to compare (a problem, if any, is reported)."""
    dist = source.dist
    shown = os.path.relpath(full, dist.location)
    try:
        with open(full, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None  # removed (as from a slimmed image): Python compiles the source again
    except OSError as exc:
        result.add("unreadable", f"{dist.label()}: {shown} cannot be read: "
                   f"{exc.strerror or exc}", dist, full)
        return None
    try:
        with open(where.source, "rb") as f:
            text = f.read()
    except OSError as exc:
        result.add("unreadable", f"{dist.label()}: {shown} cannot be read: "
                   f"{exc.strerror or exc}", dist, full)
        return None
    assert source.algorithm is not None
    if _urlsafe(hashlib.new(source.algorithm, text).digest()) != source.digest:
        # Changed since it was hashed a moment ago.
        result.add("modified", f"{dist.label()}: {source.path} does not match its "
                   f"{source.algorithm} in RECORD", dist, source.full)
        return None
    return bytecode.Job(data, text, where.source, where.optimize)


# -- records against the files -----------------------------------------------------


def _read_record(dist: Distribution) -> tuple[str | None, str | None]:
    """(sha256, problem) of a distribution's peep-hook record."""
    meta = os.path.join(dist.location, dist.metadata_dir)
    path = os.path.join(meta, RECORD_NAME)
    try:
        record = install_record.load_record(meta)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, f"cannot read {path}: {exc}"
    if record.sha256 is None:
        return None, f"{path} holds no sha256"
    return record.sha256, None


def _check_records(result: Result, named: dict[str, Named],
                   unnamed: list[tuple[str, set[str], bool]], with_files: bool) -> None:
    present: set[str] = set()
    matched_unnamed: set[int] = set()
    for dist in result.distributions:
        dist.record, problem = (_read_record(dist) if dist.metadata_dir.endswith(".dist-info")
                                else (None, None))
        if problem:
            result.add("bad-record", f"{dist.label()}: {problem}", dist)
            continue
        entry = named.get(dist.key)
        for index, (at, hexes, _) in enumerate(unnamed):
            if dist.record is not None and dist.record in hexes:
                entry = entry or Named()
                entry.where.append(at)
                entry.hexes |= hexes
                matched_unnamed.add(index)
        present.add(dist.key)
        if entry is not None:
            dist.named_by = list(entry.where)
            _check_named(dist, entry, result)
        elif with_files and dist.key not in TOOLING:
            dist.extra = True
            if not result.allow_extra:
                result.add("extra", f"{dist.label()} is installed but no file names it "
                           "(--allow-extra accepts it)", dist)
                continue
            result.notes.append(f"{dist.label()} is installed but no file names it "
                                "(accepted: --allow-extra)")
            _need_record(dist, result)
        elif dist.key not in TOOLING:
            _need_record(dist, result)
    for key, entry in named.items():
        if key in present:
            continue
        if entry.required:
            result.add("not-installed", f"{key} is not installed "
                       f"(required at {', '.join(entry.where)})")
        else:
            result.notes.append(f"{key} is not installed ({', '.join(entry.where)}: a "
                                "constraint, or a requirement with a marker)")
    for index, (at, _, required) in enumerate(unnamed):
        if index in matched_unnamed:
            continue
        message = (f"{at}: nothing installed was installed from an archive this "
                   "requirement gives a hash for (it names no project, so only its "
                   "hash can tell)")
        if required:
            result.add("not-installed", message)
        else:
            result.notes.append(message)


def _need_record(dist: Distribution, result: Result) -> None:
    if dist.record is None:
        result.add("no-record", f"{dist.label()} has no peep-hook record (installed "
                   "without the hook, or before it): which archive it came from is unknown",
                   dist)


def _check_named(dist: Distribution, entry: Named, result: Result) -> None:
    where = ", ".join(entry.where)
    if dist.record is None:
        result.add("no-record", f"{dist.label()} has no peep-hook record (installed "
                   "without the hook, or before it): which archive it came from is unknown; "
                   f"reinstall it with pip install --force-reinstall ({where})", dist)
    elif not entry.hexes:
        result.add("hash-not-in-files", f"{dist.label()} was installed from sha256 "
                   f"{dist.record}, but the files give no sha256 for it ({where})", dist)
    elif dist.record not in entry.hexes:
        result.add("hash-not-in-files", f"{dist.label()} was installed from sha256 "
                   f"{dist.record}, which is not one the files give for it ({where})", dist)


def _deep(result: Result, named: dict[str, Named], unnamed: list[tuple[str, set[str], bool]],
          directory: str | None, files: list[tuple[str, bool]],
          pip_args: Sequence[str], built_wheels: str | None = None) -> None:
    from peep_hook.commands import verify_deep

    unnamed_hexes = {h for _, hexes, _ in unnamed for h in hexes}
    wanted = unnamed_hexes | {h for entry in named.values() for h in entry.hexes}
    kept = built_wheels or install_record.built_wheels_dir()
    if directory is not None:
        verify_deep.check(result, named, unnamed_hexes,
                          verify_deep.find_archives(directory, wanted), kept)
    else:
        with verify_deep.fetch(result, named, unnamed_hexes, files, pip_args) as found:
            result.archives = f"pip's configuration: {found.source}"
            verify_deep.check(result, named, unnamed_hexes, found, kept)
    # The peep-hook record is no evidence here: a distribution its archive
    # vouches for needs none (one it has must name that archive: verify_deep).
    vouched = {(d.name, d.version) for d in result.distributions
               if d.basis in ("archive", "built-wheel")}
    fixed = {p for d in result.distributions if d.basis == "archive" for p in d.shebang_fixed}
    result.problems = [p for p in result.problems
                       if (p.kind not in ("no-record", "hash-not-in-files", "bad-record")
                           or (p.distribution, p.version) not in vouched)
                       and not (p.kind == "modified" and p.path in fixed)]


# -- output -------------------------------------------------------------------------


def _unique_dirs(dirs: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for d in dirs:
        key = os.path.realpath(d)
        if key not in seen:
            seen.add(key)
            unique.append(os.path.normpath(os.path.abspath(d)))
    return unique


def format_text(result: Result) -> str:
    lines = [f"peep-hook verify of {sys.executable} (Python {platform.python_version()})"]
    lines.append("  site-packages:   " + (", ".join(result.site_dirs) or "none"))
    lines.append("  files:           " + (", ".join(result.requirement_files)
                                         or "none (records and installed files only)"))
    if result.archives is not None:
        on_archives = sum(d.basis == "archive" for d in result.distributions)
        built = [d for d in result.distributions if d.basis == "built-wheel"]
        lines.append(f"  deep:            {on_archives} of {len(result.distributions)} "
                     f"distributions checked against archives "
                     + (f"in {result.archives}" if os.path.isdir(result.archives)
                        else f"from {result.archives}")
                     + (f", {len(built)} against the wheel built from their verified sdist"
                        if built else ""))
        lines += [f"  built from sdist: {d.label()}: {d.basis_reason}" for d in built]
    lines.append(f"  checked:         {len(result.distributions)} distributions, "
                 f"{result.files_hashed:,} files, {result.bytes_hashed / 1e6:,.1f} MB, "
                 f"{result.bytecode_checked:,} .pyc compiled in {result.seconds:.2f} s")
    count = len(result.problems)
    lines.append("  result:          " + ("clean" if result.clean else
                                         f"NOT CLEAN ({count} problem{'s' * (count != 1)})"))
    for problem in result.problems:
        lines.append(f"  {problem.kind + ':':<16} {problem.message}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n"
