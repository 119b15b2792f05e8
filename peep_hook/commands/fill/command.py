"""Filling in missing peep hashes: ``peep-hook fill FILE...``.

For each pinned requirement (``name==version``) that has no hash, in the files
given and the local ``-r``/``-c`` files they include, fill downloads the
archive pip would install, hashes it, and writes ``# sha256:`` lines directly
above the requirement in peep's form. No other byte of a file changes: other
lines, line endings, the BOM and the encoding stay as they were.

Where it looks is where pip would look: fill uses pip's own configuration
(command line, ``PIP_*`` variables, configuration files, the requirements
files' options), session and finder (:mod:`peep_hook.commands.fill.pip_index`). It never
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
  (:mod:`peep_hook.commands.fill.resolve`), among the versions pip's finder offers
  here, under the same format options pip hands its build child (with
  ``--no-binary``, the sdists); a name pinned in the files keeps its pin.
  Requirements that a backend adds at build time by running code
  (``setup_requires``) cannot be known: pip prints their blocks.

This module fills each line; the files and the walk over them are in
:mod:`peep_hook.commands.fill.files`, build dependencies in :mod:`peep_hook.commands.fill.build`,
what fill prints in :mod:`peep_hook.commands.fill.report`, and pip's ``packaging`` in
:mod:`peep_hook.commands.fill.packaging`.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from peep_hook.commands.fill.build import BuildPins, Pin
from peep_hook.commands.fill.files import Entry, ReqFile, Walk, is_remote
from peep_hook.commands.fill.packaging import Packaging
from peep_hook.commands.fill.pip_index import File, FillError, PipIndex, error_text, redact
from peep_hook.commands.fill.report import Added, Log
from peep_hook.core.hashed_pins import canonical_name
from peep_hook.core.hashes import hex_to_peep
from peep_hook.core.reqfile import (  # the same view of a line as `check`
    CONSTRAINTS,
    REQUIREMENTS,
    break_args_options,
    parse_requirement,
    sha256_options,
)

__all__ = ["FillError", "Settings", "run"]

TRUST_NOTE = (
    "peep-hook fill: trusting what the index serves today, as 'peep hash' did: each hash "
    "is of the archive as downloaded now (or as the index publishes it); review them"
)

_WHEEL_SUFFIX = ".whl"
_VCS_RE = re.compile(r"(?:git|hg|svn|bzr)\+", re.IGNORECASE)


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
        filler = _Filler(settings, PipIndex(settings.pip_args, workdir))
        failures = filler.run(paths)
        filler.log.print(out, err, filler.changed, settings.dry_run)
        return 1 if failures else 0
    except FillError as exc:
        print(f"peep-hook fill: {exc}", file=err)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class _Filler:
    """Fills each requirement and constraint line of the files walked."""

    def __init__(self, settings: Settings, index: PipIndex) -> None:
        self.settings, self.index = settings, index
        self.pkg = Packaging(index.marker_environment())
        self.log = Log()
        self.walk = Walk(self.log)
        self.build = BuildPins(index, self.pkg, self.walk, self.log, settings.all_files)
        self.changed: list[ReqFile] = []

    def run(self, paths: Sequence[str]) -> int:
        """Read, fill and write the files; the number of problems."""
        for path in paths:
            self.walk.visit(path, REQUIREMENTS, None)
        build_file = self.settings.build_constraints
        if build_file and os.path.exists(build_file):
            self.walk.visit(build_file, CONSTRAINTS, None)
        self.read_options(paths, build_file)
        for entry in self.walk.entries:
            try:
                self.fill(entry)
            except FillError as exc:
                self.log.fail(entry.where, str(exc))
        if build_file:
            self.build.write(build_file)
        self.changed = [f for f in self.walk.files.values() if f.changed]
        if not self.settings.dry_run:
            for f in self.changed:
                try:
                    f.write()
                except OSError as exc:
                    self.log.fail(f.path, f"cannot write: {error_text(exc)}")
        return self.log.failures

    def read_options(self, paths: Sequence[str], build_file: str | None) -> None:
        """Let pip read the files' options (index, find-links, formats...), in the
        order pip install -r ... -c ... would, through its own parser."""
        given = [(p, False) for p in paths]
        if build_file and os.path.exists(build_file):
            given.append((build_file, True))
        for path, constraint in given:
            if os.path.realpath(path) not in self.walk.files:
                continue  # unreadable: reported already
            try:
                self.index.read_options(path, constraint)
            except FillError as exc:
                raise FillError(f"{path}: {exc}") from None

    # -- filling one line

    def fill(self, entry: Entry) -> None:
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
                self.log.note(entry.where, message)
            else:
                raise FillError(message)
            return
        args = break_args_options(entry.text)[0].strip()
        if req.direct:
            self.fill_direct(entry, args, hashed)
        else:
            self.fill_named(entry, args, hashed)

    def fill_named(self, entry: Entry, args: str, hashed: bool) -> None:
        req = self.pkg.parse(args)
        display = f"{req.name}{req.specifier}"
        applies = self.pkg.applies(req.marker)
        if not self._fillable(entry, req, display, applies):
            return
        if applies:
            self.build.pins.setdefault(canonical_name(req.name),
                                       Pin(req.name, list(req.specifier)[0].version, entry))
        if hashed and self.settings.update:
            self.update(entry, req, display, applies)
            return
        if hashed and not self.settings.build_constraints:
            return  # nothing to fill, nothing to learn: no network at all
        best = self.index.best(req.name, req.specifier, entry.allowed) if applies else None
        if hashed:
            entry.chosen = best
        elif self.settings.all_files:
            self.add(entry, display, self._every_file(entry, req, display, applies))
        elif best is None:
            raise FillError(self.not_found(req, display))
        else:
            download = self.index.fetch(best)
            entry.chosen, entry.chosen_download = best, download
            entry.allowed.add(download.sha256)
            self.add(entry, display,
                     [(download.sha256, best.filename, "downloaded" + best.yanked_note)])

    def _fillable(self, entry: Entry, req: Any, display: str, applies: bool) -> bool:
        """Whether fill hashes this named requirement here: pinned with ==, and
        installed here (or --all-files). Notes why not, or raises FillError."""
        specs = list(req.specifier)
        pinned = (len(specs) == 1 and specs[0].operator in ("==", "===")
                  and not specs[0].version.endswith(".*"))
        if not pinned:
            if entry.kind == CONSTRAINTS:
                self.log.note(entry.where, f"{display or req.name}: a constraint not pinned "
                              "with ==; it needs no hash, left as it is")
                return False
            raise FillError(f"{display or req.name} is not pinned with ==: fill hashes "
                            "name==version requirements only; not filled")
        if not applies and not self.settings.all_files:
            self.log.note(entry.where, f"{display}: its marker excludes this Python, so pip "
                          "installs nothing for it here; not filled (--all-files fills it)")
            return False
        return True

    def _every_file(self, entry: Entry, req: Any, display: str,
                    applies: bool) -> list[tuple[str, str, str]]:
        """--all-files: the hashes of every file of the pinned release."""
        files = self.index.release(req.name, self.pkg.parse_version(list(req.specifier)[0].version))
        if not files:
            raise FillError(f"{display}: no file of this release on {self.index.describe()}")
        hashes = self.index.hashes(files)
        entry.allowed.update(h for h, _, _ in hashes)
        if applies:
            entry.chosen = self.index.best(req.name, req.specifier, entry.allowed)
        return hashes

    def update(self, entry: Entry, req: Any, display: str, applies: bool) -> None:
        """--update: drop the block's hash lines that match no file of the pinned
        release (stale after a version bump), keep the rest, and add the hash of
        the file pip would install here (every file, with --all-files) if the
        block lacks it (a file filled on another Python)."""
        version = self.pkg.parse_version(list(req.specifier)[0].version)
        files = self.index.release(req.name, version)
        if not files:
            raise FillError(f"{display}: no file of this release on {self.index.describe()}; "
                            "its hashes are left as they are")
        release = self.index.hashes(files)
        known = {h for h, _, _ in release}
        block = entry.file.hashes.hashes_for(entry.lineno)
        stale = [h for h in block if h.hex not in known]
        if any(h not in known for h in entry.allowed - {h.hex for h in block}):
            self.log.note(entry.where, f"{display}: a --hash option matches no file of "
                          "this release; fill edits peep lines only: remove it by hand")
        entry.allowed -= {h.hex for h in stale}
        new = self._lacking(entry, req, display, applies, release)
        if not stale and not new:
            return
        entry.allowed.update(h for h, _, _ in new)
        entry.file.removed.update(h.lineno for h in stale)
        self.add(entry, display, new, stale=[h.value for h in stale])

    def _lacking(self, entry: Entry, req: Any, display: str, applies: bool,
                 release: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        """--update: the hashes the line lacks: of the file pip would install
        here (every file of the release, with --all-files)."""
        if self.settings.all_files:
            return [r for r in release if r[0] not in entry.allowed]
        if not applies:
            return []
        best = self.index.best(req.name, req.specifier, entry.allowed)
        if best is None and not entry.allowed:
            raise FillError(self.not_found(req, display))
        entry.chosen = best
        if best is None or best.sha256 in entry.allowed:
            return []
        download = entry.chosen_download = self.index.fetch(best)
        if download.sha256 in entry.allowed:
            return []
        return [(download.sha256, best.filename, "downloaded" + best.yanked_note)]

    def not_found(self, req: Any, display: str) -> str:
        """Why pip's finder offers no file of a pinned release here."""
        files = self.index.release(req.name, self.pkg.parse_version(list(req.specifier)[0].version))
        if not files:
            return f"{display}: no file of this release on {self.index.describe()}"
        names = ", ".join(sorted(f.filename for f in files))
        return (f"{display}: pip would install no file of this release for Python "
                f"{self.index.python_version} here ({names}); --python-version, --platform "
                "and --all-files choose others")

    def fill_direct(self, entry: Entry, args: str, hashed: bool) -> None:
        url, marker = self._url_and_marker(args)
        display = redact(url)
        if not self.pkg.applies(marker) and not self.settings.all_files:
            self.log.note(entry.where, f"{display}: its marker excludes this Python; not filled")
            return
        location = _location(url, display)
        if hashed and not self.settings.build_constraints:
            return
        download = self.index.download(location)
        if hashed:
            if download.sha256 not in entry.allowed:
                self.log.note(entry.where, f"{display}: its archive does not match the "
                              "hashes given; build dependencies not followed")
                return
        else:
            self.add(entry, display, [(download.sha256, download.filename, "downloaded")])
            entry.allowed.add(download.sha256)
        if not download.filename.lower().endswith(_WHEEL_SUFFIX):
            entry.chosen = File(location, download.filename, "0", False, download.sha256, False)
            entry.chosen_download = download

    def _url_and_marker(self, args: str) -> tuple[str, Any]:
        if re.match(r"[A-Za-z0-9._-]+\s*(?:\[[^\]]*\])?\s*@", args):
            req = self.pkg.parse(args)
            return req.url, req.marker
        # A bare URL or path; a marker after it needs whitespace before the ';'.
        target, *marker_text = re.split(r"\s;", args, maxsplit=1)
        marker = self.pkg.parse(f"x; {marker_text[0]}").marker if marker_text else None
        return target.strip(), marker

    def add(self, entry: Entry, display: str, hashes: list[tuple[str, str, str]],
            stale: Sequence[str] = ()) -> None:
        unique = list({h[0]: h for h in hashes}.values())
        entry.file.inserts[entry.lineno] = [hex_to_peep(h) for h, _, _ in unique]
        self.log.added.append(Added(entry.file, entry.lineno, -1, display, unique, list(stale)))


def _location(url: str, display: str) -> str:
    """Where to download a URL or path requirement's archive from: the URL
    without its fragment, or a local archive's file URL."""
    if _VCS_RE.match(url):
        raise FillError(f"{display} is a VCS URL: there is no archive to hash; not filled")
    location = urlunsplit(urlsplit(url)._replace(fragment=""))
    if is_remote(location):
        return location
    path = os.path.abspath(location)  # pip reads a path relative to the working directory
    if os.path.isdir(path):
        raise FillError(f"{display} is a directory: pip cannot hash-check it; not filled")
    if not os.path.isfile(path):
        raise FillError(f"{display}: no such file")
    return pathlib.Path(path).as_uri()
