"""Pinning build dependencies: ``peep-hook fill --build-constraints FILE``.

The build dependencies are those pip would install to build each sdist the
files pin here: ``[build-system] requires`` (``setuptools>=40.8.0`` when there
is none), plus ``wheel`` for a setuptools backend, and their dependencies,
read without running code (PEP 658 metadata files, a wheel's ``METADATA``, an
sdist's ``pyproject.toml`` and, when reliable, ``PKG-INFO``). One version of
each is chosen for all the sdists by pip's own resolver
(:mod:`peep_hook.commands.fill.resolve`); this module is the source it asks. Each
version not pinned in the files is appended to FILE with its hashes.
"""

from __future__ import annotations

import email.parser
import importlib
import os
import re
import tarfile
import zipfile
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from peep_hook.commands.fill import resolve
from peep_hook.commands.fill.files import Entry, ReqFile, Walk
from peep_hook.commands.fill.packaging import Packaging
from peep_hook.commands.fill.pip_index import Download, File, FillError, PipIndex
from peep_hook.commands.fill.report import Added, Log
from peep_hook.commands.fill.resolve import Candidate, Requirement
from peep_hook.core.hashed_pins import canonical_name
from peep_hook.core.hashes import hex_to_peep

_LEGACY_BUILD_REQUIRES = ("setuptools>=40.8.0",)
_MAX_MEMBER = 8 << 20  # larger pyproject.toml or METADATA members are not read


@dataclass
class Pin:
    """A version of a project, pinned in the files or chosen for a build."""

    name: str
    version: str
    entry: Entry | None  # the line in the files; None for a new build pin
    hexes: list[tuple[str, str, str]] = field(default_factory=list)  # (hex, file, how)
    chosen: File | None = None
    download: Download | None = None
    needed_by: list[str] = field(default_factory=list)


class BuildPins:
    """The build dependencies of the sdists pip would build here: resolved, then
    appended to the build constraints file. Also the source pip's resolver asks
    (:class:`peep_hook.commands.fill.resolve.Source`)."""

    def __init__(self, index: PipIndex, pkg: Packaging, walk: Walk, log: Log,
                 all_files: bool) -> None:
        self.index, self.pkg, self.walk, self.log = index, pkg, walk, log
        self.all_files = all_files
        #: pinned in the files (by the filling of each line), by normalized name
        self.pins: dict[str, Pin] = {}
        self._build_pins: dict[tuple[str, str], Pin] = {}  # resolved build dependencies
        self._dependencies: dict[Candidate, list[Requirement]] = {}

    def write(self, path: str) -> None:
        """Resolve the build dependencies and append the new pins to ``path``."""
        roots, sdists = self._roots()
        if not roots:
            self.log.note(path, "no build dependencies to pin: " + (
                "the sdists need none" if sdists else "no sdist is built here"))
            return
        real = os.path.realpath(path)
        target = self.walk.files.get(real)
        if target is None:
            target = self.walk.files[real] = ReqFile.new(path)
        try:
            chosen = resolve.resolve(self, roots)
            new = self._new_pins(roots, chosen)
        except FillError as exc:
            self.log.fail(path, f"build dependencies not written: {exc} (looked in "
                          f"{self.index.describe()}, for Python {self.index.python_version})")
            return
        if new:
            self._append(target, new)

    def _roots(self) -> tuple[list[Requirement], int]:
        """What the sdists pip would build here ask for, and how many sdists."""
        roots: list[Requirement] = []
        sdists = 0
        for entry in self.walk.entries:
            if entry.chosen is None or entry.chosen.is_wheel:
                continue
            sdists += 1
            label = entry.label
            try:
                download = entry.chosen_download or self.index.fetch(entry.chosen)
                if download.sha256 not in entry.allowed:
                    self.log.note(entry.where, f"{label}: pip would choose "
                                  f"{entry.chosen.filename}, which matches none of its "
                                  "hashes; its build is not followed")
                    continue
                requires = [self.parse(r, label) for r in self.build_requires(download)]
            except FillError as exc:
                self.log.fail(entry.where, f"{label}: {exc}")
                continue
            roots.extend(r for r in requires if self.pkg.applies(r.req.marker))
        return roots, sdists

    def _append(self, target: ReqFile, new: list[Pin]) -> None:
        orphans = target.trailing_orphans()
        if orphans:
            self.log.fail((target, orphans[0]), "hash lines at the end of the file belong "
                          "to nothing, and would be taken by the blocks fill appends; remove "
                          "them first (build dependencies not written)")
            return
        for pin in new:
            needed_by = ", ".join(pin.needed_by)
            lines = [f"# build dependency of {needed_by}"]
            lines += [f"# sha256: {hex_to_peep(h)}" for h, _, _ in pin.hexes]
            lines.append(f"{pin.name}=={pin.version}")
            target.appended.append(lines)
            display = f"{pin.name}=={pin.version} (build dependency of {needed_by})"
            self.log.added.append(
                Added(target, 0, len(target.appended) - 1, display, pin.hexes))

    def _new_pins(self, roots: list[Requirement], chosen: dict[str, Candidate]) -> list[Pin]:
        """The resolved versions not pinned in the files, hashed, in the order they are
        reached from the sdists, each with the sdists that need it."""
        new = []
        for key, labels in self._needed_by(roots, chosen).items():
            candidate = chosen[key]
            pin = self.build_pin(key, candidate.name, candidate.version)
            if pin.entry is not None:
                continue
            pin.needed_by = labels
            pin.hexes = self._pin_hashes(pin)
            new.append(pin)
        return new

    def _needed_by(self, roots: list[Requirement],
                   chosen: dict[str, Candidate]) -> dict[str, list[str]]:
        """Each name reached from the sdists (breadth first, all sdists), and the
        sdists that need it."""
        needed: dict[str, list[str]] = {}
        queue = deque((root, root.parent) for root in roots)
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
        return needed

    # -- the source pip's resolver asks (resolve.Source)

    def parse(self, text: str, parent: str) -> Requirement:
        req = self.pkg.parse(text)
        return Requirement(canonical_name(req.name), req, parent)

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
            for text in self._dependencies_of_pin(pin, extra, label):
                req = self.parse(text, label)
                if self.pkg.applies(req.req.marker, (extra,)):
                    result.append(req)
        self._dependencies[candidate] = result
        return result

    def build_pin(self, key: str, name: str, version: Any) -> Pin:
        pinned = self.pins.get(key)
        if pinned is not None and pinned.entry is not None:
            pinned.chosen = pinned.entry.chosen
            pinned.download = pinned.download or pinned.entry.chosen_download
            return pinned
        cache_key = (key, str(version))
        pin = self._build_pins.get(cache_key)
        if pin is None:
            best = self.index.best(name, self.pkg.specifier_set(f"=={version}"))
            pin = self._build_pins[cache_key] = Pin(name, str(version), None, chosen=best)
        return pin

    def _pin_hashes(self, pin: Pin) -> list[tuple[str, str, str]]:
        best = pin.chosen
        if best is None:
            raise FillError(f"{pin.name}=={pin.version}: no file of it installs here")
        if self.all_files:
            version = self.pkg.parse_version(pin.version)
            return self.index.hashes(self.index.release(pin.name, version))
        if best.is_wheel and best.sha256 and best.metadata_url and pin.download is None:
            # PEP 658: its dependencies without downloading it; the hash as published.
            return [(best.sha256, best.filename, "published by the index")]
        pin.download = pin.download or self.index.fetch(best)
        return [(pin.download.sha256, best.filename, "downloaded")]

    def _dependencies_of_pin(self, pin: Pin, extra: str, label: str) -> list[str]:
        """What installing the pinned archive needs: Requires-Dist of a wheel; for an
        sdist, its build requirements and (when reliable) its PKG-INFO's Requires-Dist."""
        if pin.chosen is None:
            where = pin.entry.where if pin.entry else label
            self.log.note(where, f"{pin.name}=={pin.version}: no archive of it was found for "
                          "this Python; its dependencies are not followed")
            return []
        if pin.chosen.is_wheel and pin.download is None and pin.chosen.metadata_url:
            text = self.index.metadata(pin.chosen)  # PEP 658
            return email.parser.HeaderParser().parsestr(text).get_all("Requires-Dist") or []
        download = pin.download = pin.download or self.index.fetch(pin.chosen)
        if pin.chosen.is_wheel:
            metadata = _wheel_metadata(download.path, canonical_name(pin.name))
            return metadata.get_all("Requires-Dist") or []
        requires = self.build_requires(download) if extra == "" else []
        return requires + self._sdist_requires(pin, download, label)

    def _sdist_requires(self, pin: Pin, download: Download, label: str) -> list[str]:
        """An sdist's Requires-Dist, when its PKG-INFO can be trusted to hold them."""
        metadata = _sdist_pkg_info(download.path)
        version = self.pkg.parse_version(metadata.get("Metadata-Version", "") or "")
        dynamic = {d.lower() for d in metadata.get_all("Dynamic") or []}
        if version is None or version < self.pkg.version("2.2") or "requires-dist" in dynamic:
            self.log.note(label, f"{pin.name}=={pin.version} is an sdist whose dependencies "
                          "are not known without building it; if pip asks for more hashes, "
                          "add the blocks it prints")
            return []
        return metadata.get_all("Requires-Dist") or []

    def build_requires(self, download: Download) -> list[str]:
        """What pip installs to build an sdist: ``[build-system] requires``, or
        pip's legacy default, and ``wheel`` for a setuptools backend."""
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
            names = {canonical_name(re.split(r"[^A-Za-z0-9._-]", r.strip(), maxsplit=1)[0])
                     for r in requires}
            if "wheel" not in names:
                requires.append("wheel")
        return requires


# -- reading archives without running them ------------------------------------------


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
            names.sort(key=lambda n: canonical_name(n.split("-")[0]) != key)
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

