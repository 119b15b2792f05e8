"""Filling in missing peep hashes: ``peep-hook fill FILE...``.

For each pinned requirement (``name==version``) that has no hash, in the files
given and the local ``-r``/``-c`` files they include, fill downloads the
archive pip would install, hashes it, and writes ``# sha256:`` lines directly
above the requirement in peep's form. No other byte of a file changes: other
lines, line endings, the BOM and the encoding stay as they were.

Where it looks is where pip would look: fill uses pip's own configuration
(command line, ``PIP_*`` variables, configuration files, the requirements
files' options), session and finder (:mod:`peep_hook.fill_pip`). It never
asks an index pip would not ask, and never falls back to another one.

It trusts what the index serves today, as ``peep hash`` did: a hash written
records today's archive, it does not vouch for it. Line numbers it prints are
those of the files as written (or, with ``--dry-run``, as they would be).

Decisions:

* Nothing is installed, built or imported from an archive. Archives are
  hashed, and two members are read without extracting anything: an sdist's
  ``pyproject.toml`` and a wheel's ``METADATA`` (for ``--build-constraints``).
* The target is this interpreter, or the one ``--python-version``,
  ``--platform``, ``--implementation`` and ``--abi`` describe, as in
  ``pip download``. Markers are evaluated for this machine, with
  ``python_version`` and ``python_full_version`` taken from
  ``--python-version`` when it is given.
* A requirement whose environment marker excludes the target is skipped
  with a note: pip will not install it there. ``--all-files`` fills it, with
  every file of the release.
* A requirement that already has a hash (a peep block or ``--hash``) is left
  as it is, even if its hashes cover only some files of the release; with
  ``--update``, its hash lines that match no file of the pinned release
  (stale after a version bump) are replaced.
* Constraints files are filled too: a hashed constraint is how the hook
  accepts a dependency or a build dependency. An unpinned constraint needs no
  hash and is only noted; an unpinned requirement is an error.
* URL and path requirements to an archive are hashed from that URL or path.
  VCS URLs, directories and editables have no archive to hash: errors.
* Build dependencies (``--build-constraints``) are those pip would install to
  build each sdist here: ``[build-system] requires`` (``setuptools>=40.8.0``
  when there is none), plus ``wheel`` for a setuptools backend (setuptools
  before 70.1 asks for it at build time), and their dependencies, read without
  running code: from the index's PEP 658 metadata file where it offers one
  (pip 22.3+ reads it; the wheel is then not downloaded, and its hash is the
  one the index publishes), else from the downloaded wheel's ``METADATA``, or
  an sdist's ``pyproject.toml`` and (when reliable) ``PKG-INFO``. One version
  of each is chosen for all the sdists, by pip's own resolver
  (:mod:`peep_hook.fill_resolve`), among the versions pip's finder offers
  here, under the same format options pip hands its build child (with
  ``--no-binary``, the sdists); a name pinned in the files keeps its pin.
  Requirements that a backend adds at build time by running code
  (``setup_requires``) cannot be known: pip prints their blocks.
"""

from __future__ import annotations

import email.parser
import importlib
import os
import pathlib
import re
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import IO, Any, Union
from urllib.parse import urlsplit, urlunsplit

from peep_hook import fill_resolve
from peep_hook.fill_pip import Download, File, FillError, PipIndex, error_text, redact
from peep_hook.fill_resolve import Candidate, Requirement
from peep_hook.hashes import hex_to_peep
from peep_hook.pins import canonical_name as normalize
from peep_hook.reqfile import (  # the same view of a line as `check`
    CONSTRAINTS,
    REQUIREMENTS,
    break_args_options,
    expand_env,
    includes,
    logical_lines,
    parse_requirement,
    read_file,
    scan,
    sha256_options,
)

__all__ = ["FillError", "Settings", "run"]

TRUST_NOTE = (
    "peep-hook fill: trusting what the index serves today, as 'peep hash' did: each hash "
    "is of the archive as downloaded now (or as the index publishes it); review them"
)

_WHEEL_SUFFIX = ".whl"
_REMOTE_RE = re.compile(r"(?:https?|file):", re.IGNORECASE)
_VCS_RE = re.compile(r"(?:git|hg|svn|bzr)\+", re.IGNORECASE)
_LEGACY_BUILD_REQUIRES = ("setuptools>=40.8.0",)
_MAX_MEMBER = 8 << 20  # larger pyproject.toml or METADATA members are not read


@dataclass
class Settings:
    #: pip options, as on pip download's command line (index, target, format...)
    pip_args: Sequence[str] = ()
    all_files: bool = False
    build_constraints: str | None = None
    dry_run: bool = False
    update: bool = False


def run(paths: Sequence[str], settings: Settings, out: IO[str] | None = None,
        err: IO[str] | None = None) -> int:
    """Fill the files; print what was added. 0 when every requirement that needs
    a hash here got one, 1 otherwise."""
    out = out or sys.stdout
    err = err or sys.stderr
    print(TRUST_NOTE, file=err)
    workdir = tempfile.mkdtemp(prefix="peep-hook-fill-")
    try:
        filler = _Filler(settings, PipIndex(settings.pip_args, workdir), err)
        return filler.run(paths, out)
    except FillError as exc:
        print(f"peep-hook fill: {exc}", file=err)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- pip's view of requirements, through its vendored packaging ---------------------


class _Packaging:
    """pip's vendored ``packaging``: requirements, markers and versions as pip sees them."""

    def __init__(self, environment: dict[str, str]) -> None:
        from pip._vendor.packaging import markers, requirements, specifiers, version

        self.requirement: Any = requirements.Requirement
        self.specifier_set: Any = specifiers.SpecifierSet
        self.version: Any = version.Version
        self.invalid_version: Any = version.InvalidVersion
        self.invalid: tuple[type[Exception], ...] = (
            requirements.InvalidRequirement, specifiers.InvalidSpecifier, markers.InvalidMarker)
        self.environment = environment

    def parse(self, text: str) -> Any:
        try:
            return self.requirement(text)
        except self.invalid as exc:
            raise FillError(f"cannot read requirement {text!r}: {exc}") from None

    def parse_version(self, text: str) -> Any | None:
        try:
            return self.version(text)
        except self.invalid_version:
            return None

    def applies(self, marker: Any, extras: Iterable[str] = ("",)) -> bool:
        if marker is None:
            return True
        try:
            return any(marker.evaluate({**self.environment, "extra": extra})
                       for extra in extras)
        except ValueError as exc:  # packaging's Undefined* errors
            raise FillError(f"cannot evaluate marker '{marker}': {exc}") from None


# -- the files being filled ------------------------------------------------------


class _ReqFile:
    """A requirements file's text, and the lines to add to it."""

    def __init__(self, path: str, bom: bytes, encoding: str, text: str, exists: bool) -> None:
        self.path, self.bom, self.encoding, self.exists = path, bom, encoding, exists
        self.text = text
        self.lines = text.splitlines(keepends=True)  # as pip and reqfile.scan split them
        self.hashes = scan(text)
        self.inserts: dict[int, list[str]] = {}  # line number -> hash values above it
        self.removed: set[int] = set()  # stale hash lines to drop (--update)
        self.appended: list[list[str]] = []  # whole blocks, after the last line

    @classmethod
    def read(cls, path: str) -> _ReqFile:
        bom, encoding, text = read_file(path)
        return cls(path, bom, encoding, text, True)

    @classmethod
    def new(cls, path: str) -> _ReqFile:
        return cls(path, b"", "utf-8", "", False)

    @property
    def changed(self) -> bool:
        return bool(self.inserts or self.appended or self.removed)

    def _ending(self, line: str) -> str:
        for ending in ("\r\n", "\n", "\r"):
            if line.endswith(ending):
                return ending
        for other in self.lines:
            for ending in ("\r\n", "\n", "\r"):
                if other.endswith(ending):
                    return ending
        return "\n"

    def trailing_orphans(self) -> list[int]:
        """Hash lines after the last requirement: a block appended would adopt them."""
        last = max((ll.lineno + len(ll.lines) - 1 for ll in logical_lines(self.text)), default=0)
        return [h.lineno for h in self.hashes.orphans if h.lineno > last]

    def render(self) -> tuple[str, dict[int, int], list[int]]:
        """The new text, where each old line went, and each appended requirement's line."""
        out: list[str] = []
        moved: dict[int, int] = {}
        for lineno, line in enumerate(self.lines, start=1):
            values = self.inserts.get(lineno, ())
            if values:
                indent = line[: len(line) - len(line.lstrip(" \t"))]
                out.extend(f"{indent}# sha256: {v}{self._ending(line)}" for v in values)
            moved[lineno] = len(out) + 1
            if lineno not in self.removed:
                out.append(line)
        placed = []
        if self.appended:
            ending = self._ending(out[-1] if out else "")
            if out and out[-1] == out[-1].rstrip("\r\n"):
                out[-1] += ending  # the last line had no line break
            for block in self.appended:
                if out and out[-1].strip():
                    out.append(ending)  # a blank line between blocks, for the reader
                out.extend(line + ending for line in block)
                placed.append(len(out))
        return "".join(out), moved, placed

    def write(self) -> None:
        data = self.bom + self.render()[0].encode(self.encoding)
        target = os.path.realpath(self.path)
        if not self.exists:
            with open(target, "xb") as f:
                f.write(data)
            return
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".peep-hook-fill-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            shutil.copymode(target, temporary)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise


@dataclass
class _Entry:
    """A requirement or constraint line, and what fill learnt of it."""

    file: _ReqFile
    lineno: int
    text: str
    kind: str
    chosen: File | None = None  # what pip would install here (for build dependencies)
    chosen_download: Download | None = None
    allowed: set[str] = field(default_factory=set)  # hex hashes it has, or gets

    @property
    def where(self) -> tuple[_ReqFile, int]:
        return self.file, self.lineno


@dataclass
class _Pin:
    name: str
    version: str
    entry: _Entry | None  # the line in the files; None for a new build pin
    hexes: list[tuple[str, str, str]] = field(default_factory=list)  # (hex, file, how)
    chosen: File | None = None
    download: Download | None = None
    needed_by: list[str] = field(default_factory=list)


@dataclass
class _Added:
    file: _ReqFile
    lineno: int  # old line number; 0 for an appended block
    block: int  # index into file.appended; -1 for an insertion
    display: str
    hashes: list[tuple[str, str, str]]  # (hex, file name, how it was hashed)
    stale: list[str] = field(default_factory=list)  # peep values removed (--update)


_Where = Union["tuple[_ReqFile, int]", str]  # a line of a file, or a plain label


class _Filler:
    def __init__(self, settings: Settings, index: PipIndex, err: IO[str]) -> None:
        self.settings, self.index, self.err = settings, index, err
        self.pkg = _Packaging(index.marker_environment())
        self._build_pins: dict[tuple[str, str], _Pin] = {}  # resolved build dependencies
        self._dependencies: dict[Candidate, list[Requirement]] = {}
        self.files: dict[str, _ReqFile] = {}
        self.entries: list[_Entry] = []
        self.pins: dict[str, _Pin] = {}  # pinned in the files, for build dependencies
        self.added: list[_Added] = []
        self.failures = 0
        # Printed at the end, with line numbers of the files as written.
        self.messages: list[tuple[_Where, str]] = []

    # -- reporting

    def fail(self, where: _Where, message: str) -> None:
        self.failures += 1
        self.messages.append((where, message))

    def note(self, where: _Where, message: str) -> None:
        self.messages.append((where, f"note: {message}"))

    # -- the run

    def run(self, paths: Sequence[str], out: IO[str]) -> int:
        for path in paths:
            self.visit(path, REQUIREMENTS, None)
        build_file = self.settings.build_constraints
        if build_file and os.path.exists(build_file):
            self.visit(build_file, CONSTRAINTS, None)
        self.read_options(paths, build_file)
        for entry in self.entries:
            try:
                self.fill(entry)
            except FillError as exc:
                self.fail(entry.where, str(exc))
        if build_file:
            self.build_dependencies(build_file)
        changed = [f for f in self.files.values() if f.changed]
        if not self.settings.dry_run:
            for f in changed:
                try:
                    f.write()
                except OSError as exc:
                    self.fail(f.path, f"cannot write: {error_text(exc)}")
        self.report(out, changed)
        return 1 if self.failures else 0

    def report(self, out: IO[str], changed: list[_ReqFile]) -> None:
        layout = {id(f): f.render() for f in changed}
        for where, message in self.messages:
            if isinstance(where, tuple):
                f, lineno = where
                lineno = layout[id(f)][1].get(lineno, lineno) if id(f) in layout else lineno
                where = f"{f.path}:{lineno}"
            print(f"{where}: {message}", file=self.err)
        for added in self.added:
            _, moved, placed = layout[id(added.file)]
            line = moved[added.lineno] if added.block < 0 else placed[added.block]
            print(f"{added.file.path}:{line}: {added.display}", file=out)
            for value in added.stale:
                print(f"  - # sha256: {value}  (matches no file of this release: removed)",
                      file=out)
            for hex_digest, filename, how in added.hashes:
                print(f"    # sha256: {hex_to_peep(hex_digest)}  {filename} ({how})", file=out)
        count = sum(len(a.hashes) for a in self.added)
        summary = (f"peep-hook fill: {_plural(count, 'hash')} added for "
                   f"{_plural(len(self.added), 'requirement')} in {_plural(len(changed), 'file')}")
        stale = sum(len(a.stale) for a in self.added)
        if stale:
            summary += f", {_plural(stale, 'stale hash')} removed"
        if self.settings.dry_run:
            summary += " (dry run: nothing written)"
        if self.failures:
            summary += f"; {_plural(self.failures, 'problem')} (see above)"
        print(summary, file=out)

    # -- reading files

    def read_options(self, paths: Sequence[str], build_file: str | None) -> None:
        """Let pip read the files' options (index, find-links, formats...), in the
        order pip install -r ... -c ... would, through its own parser."""
        given = [(p, False) for p in paths]
        if build_file and os.path.exists(build_file):
            given.append((build_file, True))
        for path, constraint in given:
            if os.path.realpath(path) not in self.files:
                continue  # unreadable: reported already
            try:
                self.index.read_options(path, constraint)
            except FillError as exc:
                raise FillError(f"{path}: {exc}") from None

    def visit(self, path: str, kind: str, origin: _Where | None) -> None:
        real = os.path.realpath(path)
        if real in self.files:
            return
        try:
            f = _ReqFile.read(path)
        except (OSError, ValueError) as exc:
            if origin is None:
                self.fail(path, f"cannot read: {error_text(exc)}")
            else:
                self.fail(origin, f"cannot read {path}: {error_text(exc)}")
            return
        self.files[real] = f
        for logical in logical_lines(f.text):
            text = expand_env(logical.text)
            if not text:
                continue
            if logical.is_option:
                self.option(f, logical.lineno, text)
            else:
                self.entries.append(_Entry(f, logical.lineno, text, kind))

    def option(self, f: _ReqFile, lineno: int, text: str) -> None:
        """Follow -r and -c to the local files to edit; pip reads every option."""
        try:
            found = includes(text)
        except ValueError as exc:
            self.fail((f, lineno), f"cannot read option line: {exc}")
            return
        for kind, value in found:
            self.include(f, lineno, expand_env(value), kind)

    def include(self, f: _ReqFile, lineno: int, target: str, kind: str) -> None:
        if _REMOTE_RE.match(target):
            self.note((f, lineno), f"not following {redact(target)}: fill edits local files only")
            return
        path = os.path.normpath(os.path.join(os.path.dirname(f.path), target))
        self.visit(path, kind, (f, lineno))

    # -- filling one line

    def fill(self, entry: _Entry) -> None:
        req = parse_requirement(entry.text)
        if req is None:
            raise FillError(f"cannot read a requirement from {entry.text!r}")
        block = entry.file.hashes.hashes_for(entry.lineno)
        if any(h.hex is None for h in block):
            raise FillError(f"{req.display} has a malformed hash line; left as it is "
                            "('peep-hook check' says more)")
        entry.allowed = {h.hex for h in block if h.hex is not None}
        entry.allowed.update(sha256_options(req.options))
        hashed = bool(block) or "--hash" in req.options
        if req.editable:
            message = f"{req.display} is editable: pip cannot hash-check it; not filled"
            if entry.kind == CONSTRAINTS:
                self.note(entry.where, message)
            else:
                raise FillError(message)
            return
        args = break_args_options(entry.text)[0].strip()
        if req.direct:
            self.fill_direct(entry, args, hashed)
        else:
            self.fill_named(entry, args, hashed)

    def fill_named(self, entry: _Entry, args: str, hashed: bool) -> None:
        req = self.pkg.parse(args)
        key = normalize(req.name)
        specs = list(req.specifier)
        pinned = (len(specs) == 1 and specs[0].operator in ("==", "===")
                  and not specs[0].version.endswith(".*"))
        display = f"{req.name}{req.specifier}"
        applies = self.pkg.applies(req.marker)
        if not pinned:
            if entry.kind == CONSTRAINTS:
                self.note(entry.where, f"{display or req.name}: a constraint not pinned with "
                          "==; it needs no hash, left as it is")
                return
            raise FillError(f"{display or req.name} is not pinned with ==: fill hashes "
                            "name==version requirements only; not filled")
        if not applies and not self.settings.all_files:
            self.note(entry.where, f"{display}: its marker excludes this Python, so pip "
                      "installs nothing for it here; not filled (--all-files fills it)")
            return
        if applies:
            self.pins.setdefault(key, _Pin(req.name, specs[0].version, entry))
        if hashed and self.settings.update:
            self.update(entry, req, display, applies)
            return
        if hashed and not self.settings.build_constraints:
            return  # nothing to fill, nothing to learn: no network at all
        best = self.index.best(req.name, req.specifier, entry.allowed) if applies else None
        if hashed:
            entry.chosen = best
            return
        if self.settings.all_files:
            files = self.index.release(req.name, self.pkg.parse_version(specs[0].version))
            if not files:
                raise FillError(f"{display}: no file of this release on {self.index.describe()}")
            hashes = self.all_hashes(files)
            entry.allowed.update(h for h, _, _ in hashes)
            if applies:
                entry.chosen = self.index.best(req.name, req.specifier, entry.allowed)
        else:
            if best is None:
                raise FillError(self.not_found(req, display))
            download = self.fetch(best)
            entry.chosen, entry.chosen_download = best, download
            entry.allowed.add(download.sha256)
            hashes = [(download.sha256, best.filename, "downloaded" + _yanked(best))]
        self.add(entry, display, hashes)

    def update(self, entry: _Entry, req: Any, display: str, applies: bool) -> None:
        """--update: drop the block's hash lines that match no file of the pinned
        release (stale after a version bump), keep the rest, and add the hash of
        the file pip would install here (every file, with --all-files) if the
        block lacks it (a file filled on another Python)."""
        version = self.pkg.parse_version(list(req.specifier)[0].version)
        files = self.index.release(req.name, version)
        if not files:
            raise FillError(f"{display}: no file of this release on {self.index.describe()}; "
                            "its hashes are left as they are")
        release = self.all_hashes(files)
        known = {h for h, _, _ in release}
        block = entry.file.hashes.hashes_for(entry.lineno)
        stale = [h for h in block if h.hex not in known]
        if any(h not in known for h in entry.allowed - {h.hex for h in block}):
            self.note(entry.where, f"{display}: a --hash option matches no file of this "
                      "release; fill edits peep lines only: remove it by hand")
        entry.allowed -= {h.hex for h in stale}
        new: list[tuple[str, str, str]] = []
        if self.settings.all_files:
            new = [r for r in release if r[0] not in entry.allowed]
        elif applies:
            best = self.index.best(req.name, req.specifier, entry.allowed)
            if best is None and not entry.allowed:
                raise FillError(self.not_found(req, display))
            entry.chosen = best
            if best is not None and best.sha256 not in entry.allowed:
                download = entry.chosen_download = self.fetch(best)
                if download.sha256 not in entry.allowed:  # the file pip installs here
                    new = [(download.sha256, best.filename, "downloaded" + _yanked(best))]
        if not stale and not new:
            return
        entry.allowed.update(h for h, _, _ in new)
        entry.file.removed.update(h.lineno for h in stale)
        self.add(entry, display, new, stale=[h.value for h in stale])

    def not_found(self, req: Any, display: str) -> str:
        """Why pip's finder offers no file of a pinned release here."""
        files = self.index.release(req.name, self.pkg.parse_version(list(req.specifier)[0].version))
        if not files:
            return f"{display}: no file of this release on {self.index.describe()}"
        names = ", ".join(sorted(f.filename for f in files))
        return (f"{display}: pip would install no file of this release for Python "
                f"{self.index.python_version} here ({names}); --python-version, --platform "
                "and --all-files choose others")

    def fill_direct(self, entry: _Entry, args: str, hashed: bool) -> None:
        if re.match(r"[A-Za-z0-9._-]+\s*(?:\[[^\]]*\])?\s*@", args):
            req = self.pkg.parse(args)
            url, marker = req.url, req.marker
        else:
            # A bare URL or path; a marker after it needs whitespace before the ';'.
            target, *marker_text = re.split(r"\s;", args, maxsplit=1)
            url = target.strip()
            marker = self.pkg.parse(f"x; {marker_text[0]}").marker if marker_text else None
        display = redact(url)
        if not self.pkg.applies(marker) and not self.settings.all_files:
            self.note(entry.where, f"{display}: its marker excludes this Python; not filled")
            return
        if _VCS_RE.match(url):
            raise FillError(f"{display} is a VCS URL: there is no archive to hash; not filled")
        location = urlunsplit(urlsplit(url)._replace(fragment=""))
        if not _REMOTE_RE.match(location):
            path = os.path.abspath(location)  # pip reads a path relative to the working directory
            if os.path.isdir(path):
                raise FillError(f"{display} is a directory: pip cannot hash-check it; not filled")
            if not os.path.isfile(path):
                raise FillError(f"{display}: no such file")
            location = pathlib.Path(path).as_uri()
        if hashed and not self.settings.build_constraints:
            return
        download = self.index.download(location)
        if hashed:
            if download.sha256 not in entry.allowed:
                self.note(entry.where, f"{display}: its archive does not match the hashes "
                          "given; build dependencies not followed")
                return
        else:
            self.add(entry, display, [(download.sha256, download.filename, "downloaded")])
            entry.allowed.add(download.sha256)
        if not download.filename.lower().endswith(_WHEEL_SUFFIX):
            entry.chosen = File(location, download.filename, "0", False, download.sha256, False)
            entry.chosen_download = download

    def add(self, entry: _Entry, display: str, hashes: list[tuple[str, str, str]],
            stale: Sequence[str] = ()) -> None:
        unique = list({h[0]: h for h in hashes}.values())
        entry.file.inserts[entry.lineno] = [hex_to_peep(h) for h, _, _ in unique]
        self.added.append(_Added(entry.file, entry.lineno, -1, display, unique, list(stale)))

    def fetch(self, f: File) -> Download:
        """Download a file; its hash must be the one the index published, if any."""
        download = self.index.download(f.url)
        if f.sha256 is not None and f.sha256 != download.sha256:
            raise FillError(f"{f.filename}: the index publishes sha256={f.sha256} but served "
                            f"an archive with sha256={download.sha256}; not filled")
        return download

    def all_hashes(self, files: Sequence[File]) -> list[tuple[str, str, str]]:
        result = []
        for f in sorted(files, key=lambda f: f.filename):
            if f.sha256 is not None:
                result.append((f.sha256, f.filename, "published by the index" + _yanked(f)))
            else:
                result.append((self.fetch(f).sha256, f.filename, "downloaded" + _yanked(f)))
        return result

    # -- build dependencies

    def build_dependencies(self, path: str) -> None:
        roots: list[Requirement] = []
        sdists = 0
        for entry in self.entries:
            if entry.chosen is None or entry.chosen.is_wheel:
                continue
            sdists += 1
            label = _label(entry)
            try:
                download = entry.chosen_download or self.fetch(entry.chosen)
                if download.sha256 not in entry.allowed:
                    self.note(entry.where, f"{label}: pip would choose {entry.chosen.filename}, "
                              "which matches none of its hashes; its build is not followed")
                    continue
                requires = [self.parse(r, label) for r in self.build_requires(download)]
            except FillError as exc:
                self.fail(entry.where, f"{label}: {exc}")
                continue
            roots.extend(r for r in requires if self.pkg.applies(r.req.marker))
        real = os.path.realpath(path)
        target = self.files.get(real)
        if not roots:
            self.note(path, "no build dependencies to pin: " + (
                "the sdists need none" if sdists else "no sdist is built here"))
            return
        if target is None:
            target = self.files[real] = _ReqFile.new(path)
        try:
            chosen = fill_resolve.resolve(self, roots)
            new = self.new_pins(roots, chosen)
        except FillError as exc:
            self.fail(path, f"build dependencies not written: {exc} (looked in "
                      f"{self.index.describe()}, for Python {self.index.python_version})")
            return
        if not new:
            return
        orphans = target.trailing_orphans()
        if orphans:
            self.fail((target, orphans[0]), "hash lines at the end of the file belong to "
                      "nothing, and would be taken by the blocks fill appends; remove them "
                      "first (build dependencies not written)")
            return
        for pin in new:
            lines = [f"# build dependency of {', '.join(pin.needed_by)}"]
            lines += [f"# sha256: {hex_to_peep(h)}" for h, _, _ in pin.hexes]
            lines.append(f"{pin.name}=={pin.version}")
            target.appended.append(lines)
            display = f"{pin.name}=={pin.version} (build dependency of {', '.join(pin.needed_by)})"
            self.added.append(_Added(target, 0, len(target.appended) - 1, display, pin.hexes))

    def new_pins(self, roots: list[Requirement], chosen: dict[str, Candidate]) -> list[_Pin]:
        """The resolved versions not pinned in the files, hashed, in the order they are
        reached from the sdists, each with the sdists that need it."""
        needed: dict[str, list[str]] = {}
        queue = deque((root, root.parent) for root in roots)  # breadth first, all sdists
        seen: set[tuple[str, str, frozenset[str]]] = set()
        while queue:
            req, label = queue.popleft()
            extras = frozenset(req.req.extras)
            if (label, req.key, extras) in seen:
                continue
            seen.add((label, req.key, extras))
            labels = needed.setdefault(req.key, [])
            if label not in labels:
                labels.append(label)
            candidate = chosen[req.key]
            queue.extend((dep, label) for dep in self.dependencies_of(
                Candidate(req.key, candidate.name, candidate.version, extras)))
        new = []
        for key, labels in needed.items():
            candidate = chosen[key]
            pin = self.build_pin(key, candidate.name, candidate.version)
            if pin.entry is not None:
                continue
            pin.needed_by = labels
            pin.hexes = self.pin_hashes(pin)
            new.append(pin)
        return new

    # -- build dependencies: the source pip's resolver asks (fill_resolve.Source)

    def parse(self, text: str, parent: str) -> Requirement:
        req = self.pkg.parse(text)
        return Requirement(normalize(req.name), req, parent)

    def versions(self, name: str, key: str) -> list[Any]:
        pinned = self.pins.get(key)
        if pinned is not None and pinned.entry is not None:
            version = self.pkg.parse_version(pinned.version)
            return [version] if version is not None else []
        by_version: dict[str, bool] = {}  # version -> some file is not yanked
        for f in self.index.candidates(name):
            by_version[f.version] = by_version.get(f.version, False) or not f.yanked
        versions = [self.pkg.parse_version(v) for v, usable in by_version.items() if usable]
        return sorted({v for v in versions if v is not None}, reverse=True)

    def dependencies_of(self, candidate: Candidate) -> list[Requirement]:
        cached = self._dependencies.get(candidate)
        if cached is not None:
            return cached
        pin = self.build_pin(candidate.key, candidate.name, candidate.version)
        label = f"{candidate.name}=={candidate.version}"
        result = []
        if candidate.extras:  # the extras' dependencies, and this very version
            result.append(self.parse(label, label))
        for extra in ("", *sorted(candidate.extras)):
            for text in self.dependencies(pin, extra, label):
                req = self.parse(text, label)
                if self.pkg.applies(req.req.marker, (extra,)):
                    result.append(req)
        self._dependencies[candidate] = result
        return result

    def build_pin(self, key: str, name: str, version: Any) -> _Pin:
        pinned = self.pins.get(key)
        if pinned is not None and pinned.entry is not None:
            pinned.chosen = pinned.entry.chosen
            pinned.download = pinned.download or pinned.entry.chosen_download
            return pinned
        cache_key = (key, str(version))
        pin = self._build_pins.get(cache_key)
        if pin is None:
            best = self.index.best(name, self.pkg.specifier_set(f"=={version}"))
            pin = self._build_pins[cache_key] = _Pin(name, str(version), None, chosen=best)
        return pin

    def pin_hashes(self, pin: _Pin) -> list[tuple[str, str, str]]:
        best = pin.chosen
        if best is None:
            raise FillError(f"{pin.name}=={pin.version}: no file of it installs here")
        if self.settings.all_files:
            version = self.pkg.parse_version(pin.version)
            return self.all_hashes(self.index.release(pin.name, version))
        if best.is_wheel and best.sha256 and best.metadata_url and pin.download is None:
            # PEP 658: its dependencies without downloading it; the hash as published.
            return [(best.sha256, best.filename, "published by the index")]
        pin.download = pin.download or self.fetch(best)
        return [(pin.download.sha256, best.filename, "downloaded")]

    def dependencies(self, pin: _Pin, extra: str, label: str) -> list[str]:
        """What installing the pinned archive needs: Requires-Dist of a wheel; for an
        sdist, its build requirements and (when reliable) its PKG-INFO's Requires-Dist."""
        if pin.chosen is None:
            where = pin.entry.where if pin.entry else label
            self.note(where, f"{pin.name}=={pin.version}: no archive of it was found for this "
                      "Python; its dependencies are not followed")
            return []
        if pin.chosen.is_wheel and pin.download is None and pin.chosen.metadata_url:
            text = self.index.metadata(pin.chosen)  # PEP 658
            return email.parser.HeaderParser().parsestr(text).get_all("Requires-Dist") or []
        download = pin.download or self.fetch(pin.chosen)
        pin.download = download
        if pin.chosen.is_wheel:
            metadata = _wheel_metadata(download.path, normalize(pin.name))
            return metadata.get_all("Requires-Dist") or []
        requires = self.build_requires(download) if extra == "" else []
        metadata = _sdist_pkg_info(download.path)
        version = self.pkg.parse_version(metadata.get("Metadata-Version", "") or "")
        dynamic = {d.lower() for d in metadata.get_all("Dynamic") or []}
        if version is None or version < self.pkg.version("2.2") or "requires-dist" in dynamic:
            self.note(label, f"{pin.name}=={pin.version} is an sdist whose dependencies are "
                      "not known without building it; if pip asks for more hashes, add the "
                      "blocks it prints")
            return requires
        return requires + (metadata.get_all("Requires-Dist") or [])

    def build_requires(self, download: Download) -> list[str]:
        text = _sdist_member(download.path, download.filename, "pyproject.toml")
        build = _toml(text).get("build-system") if text is not None else None
        if build is None:  # pip's legacy default
            requires = list(_LEGACY_BUILD_REQUIRES)
            backend = None
        else:
            requires = build.get("requires")
            if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
                raise FillError(f"{download.filename}: [build-system] requires is missing or "
                                "not a list of strings (pip refuses it too)")
            backend = build.get("build-backend")
        if backend is None or str(backend).startswith("setuptools.build_meta"):
            names = {normalize(re.split(r"[^A-Za-z0-9._-]", r.strip(), maxsplit=1)[0])
                     for r in requires}
            if "wheel" not in names:
                requires.append("wheel")
        return requires


# -- small readers ---------------------------------------------------------------


def _label(entry: _Entry) -> str:
    args = break_args_options(entry.text)[0].split(";")[0].strip()
    return redact(args)


def _yanked(f: File) -> str:
    return ", yanked on the index" if f.yanked else ""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else ('es' if noun.endswith('sh') else 's')}"


def _sdist_member(path: str, filename: str, name: str) -> str | None:
    """A top-level member of an sdist (``<dir>/<name>``), read without extracting."""
    def wanted(member: str) -> bool:
        parts = member.strip("/").split("/")
        return len(parts) == 2 and parts[1] == name

    try:
        if filename.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if wanted(info.filename):
                        _check_size(info.file_size, name)
                        return zf.read(info).decode("utf-8")
            return None
        with tarfile.open(path, "r:*") as tf:
            for member in tf:
                if member.isfile() and wanted(member.name):
                    _check_size(member.size, name)
                    extracted = tf.extractfile(member)
                    return extracted.read().decode("utf-8") if extracted else None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
        raise FillError(f"cannot read {name} in {filename}: {exc}") from None
    return None


def _check_size(size: int, name: str) -> None:
    if size > _MAX_MEMBER:
        raise FillError(f"{name} is {size} bytes; not read")


def _sdist_pkg_info(path: str) -> Message:
    text = _sdist_member(path, os.path.basename(path), "PKG-INFO") or ""
    return email.parser.HeaderParser().parsestr(text)


def _wheel_metadata(path: str, key: str) -> Message:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist()
                     if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            names.sort(key=lambda n: normalize(n.split("-")[0]) != key)
            if not names:
                raise FillError(f"{os.path.basename(path)} has no .dist-info/METADATA")
            _check_size(zf.getinfo(names[0]).file_size, "METADATA")
            text = zf.read(names[0]).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, OSError) as exc:
        raise FillError(f"cannot read {os.path.basename(path)}: {exc}") from None
    return email.parser.HeaderParser().parsestr(text)


def _toml(text: str) -> dict[str, Any]:
    """Parse TOML with what this Python has: tomllib (3.11+), or pip's vendored
    tomli (pip 21.2+) or toml (older pips)."""
    for module_name in ("tomllib", "pip._vendor.tomli", "pip._vendor.toml"):
        try:
            module: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            data = module.loads(text)
        except ValueError as exc:  # both decoders' errors are ValueErrors
            raise FillError(f"pyproject.toml is not valid TOML: {exc}") from None
        return data if isinstance(data, dict) else {}
    raise FillError("no TOML parser (tomllib, or pip's tomli or toml) to read pyproject.toml")

