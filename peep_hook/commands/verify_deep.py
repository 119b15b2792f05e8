"""``peep-hook verify --deep``: the environment against its archives.

Plain ``verify`` trusts ``RECORD`` and the peep-hook record, which sit in the
site-packages a tamperer writes to. ``--deep`` takes as evidence only the
requirements files' hashes and the archives whose sha256 they give. For
each installed distribution it finds a wheel among those archives holding
its ``.dist-info``, then:

* every file the wheel installs into site-packages must be there with the
  member's bytes (byte code is compiled and compared by plain verify's check,
  run without the install-time shortcut the record offers);
* every file its ``RECORD`` lists must be one of them, the byte code of one,
  or a file pip writes itself: ``INSTALLER`` (``pip``), ``REQUESTED`` (empty),
  ``direct_url.json`` (an archive URL), the peep-hook record (naming this
  archive's hash), ``RECORD``, and console scripts for the wheel's entry
  points, with pip's shebang for this interpreter and a body that does nothing
  but import and call the entry point (the template differs between pips, so
  its statements are compared, not its bytes).

A distribution built from a verified sdist is checked the same way against
the wheel pip built from it at install, kept outside site-packages under the
sdist's sha256 (:func:`peep_hook.core.install_record.keep_built_wheel`); that wheel's
modules the sdist also holds must have the sdist's bytes. The rest of it is
trusted as far as the directory it is kept in: nothing is rebuilt.

A distribution without such an archive is named with the reason and makes
the result non-zero.

Where the archives come from: with ``--archives DIR``, only that directory
(offline). Without it, the way pip would get them (:func:`fetch`): pip's
configuration, the files' own options, pip's indexes and find-links, through
fill's pip access (:mod:`peep_hook.commands.fill.pip_index`: pip's option parsing, session
and finder) and pip's HTTP cache (the session's). Among the files of the
installed release, those whose published sha256 the files give (or, where
none is published, every one) are downloaded through pip's session and
hashed here; only one whose bytes have such a sha256 is used. The index is
trusted for nothing but bytes to hash.

Import boundary: ``verify`` is a command that does not import pip, and this
module does not either at import time; only :func:`fetch`, on the ``--deep``
path without ``--archives``, imports pip, lazily, through ``fill/pip_index.py``.
Everything else is standard library, like plain ``verify``.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from peep_hook.core import bytecode
from peep_hook.core.hashes import CHUNK, sha256_of_file
from peep_hook.core.install_record import RECORD_NAME

if TYPE_CHECKING:
    from peep_hook.commands.fill.pip_index import PipIndex
    from peep_hook.commands.verify import Distribution, Named, Result

_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")


@dataclass
class Archive:
    path: str
    sha256: str
    #: a wheel built from a verified sdist at install: that sdist's path
    built_from: str | None = None
    #: for such a wheel: how many of its modules were compared with the sdist's
    compared: str = ""


@dataclass
class Archives:
    wheels: dict[str, list[Archive]]  # .dist-info name -> wheels holding it
    sdists: set[str]  # sha256 of the other archives the files give a hash for
    sdist_paths: dict[str, str] = field(default_factory=dict)  # their sha256 -> path
    where: str = "in the --archives directory"
    source: str = ""  # the indexes and find-links pip was configured with
    #: .dist-info name -> why pip could not get an archive for it
    unreachable: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, digest: str) -> None:
        """An archive whose sha256 (computed here) the files give."""
        if not path.endswith(".whl"):
            self.sdists.add(digest)
            self.sdist_paths.setdefault(digest, path)
            return
        try:
            with zipfile.ZipFile(path) as zf:
                tops = {n.split("/", 1)[0] for n in zf.namelist()}
        except (OSError, zipfile.BadZipFile):
            return
        for top in tops:
            if top.endswith(".dist-info"):
                self.wheels.setdefault(top, []).append(Archive(path, digest))


def find_archives(directory: str, wanted: set[str]) -> Archives:
    """The archives in ``directory`` whose sha256 the files give (hashed here:
    neither a file's name nor anything else in it is taken on trust)."""
    found = Archives({}, set())
    for entry in sorted(os.listdir(directory)):
        path = os.path.join(directory, entry)
        if not entry.endswith(_ARCHIVE_SUFFIXES) or not os.path.isfile(path):
            continue
        digest = sha256_of_file(path)
        if digest in wanted:
            found.add(path, digest)
    return found


@contextlib.contextmanager
def fetch(result: Result, named: dict[str, Named], unnamed_hexes: set[str],
          files: Sequence[tuple[str, bool]], pip_args: Sequence[str]) -> Iterator[Archives]:
    """The archives of the installed distributions, got as pip would get them
    (kept in a temporary directory until the check is done)."""
    from peep_hook.commands.fill import pip_index  # imports pip: only here

    workdir = tempfile.mkdtemp(prefix="peep-hook-verify-")
    found = Archives({}, set())
    try:
        try:
            index = pip_index.PipIndex(pip_args, workdir)
            for path, constraint in files:  # their -i, -f, --no-index... as pip reads them
                try:
                    index.read_options(path, constraint)
                except pip_index.FillError as exc:
                    raise pip_index.FillError(f"{path}: {exc}") from None
        except pip_index.FillError as exc:
            why = f"pip's indexes cannot be used: {exc}"
            found.unreachable = {d.metadata_dir: why for d in result.distributions}
            yield found
            return
        found.source = index.describe()
        found.where = f"at {found.source} (pip's configuration)"
        for dist in result.distributions:
            entry = named.get(dist.key)
            hexes = (entry.hexes if entry is not None else set()) | unnamed_hexes
            if hexes and dist.version and dist.metadata_dir.endswith(".dist-info"):
                missing = _fetch_one(index, dist, hexes, found)
                if missing:
                    found.unreachable[dist.metadata_dir] = missing
        yield found
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _fetch_one(index: PipIndex, dist: Distribution, hexes: set[str],
               found: Archives) -> str | None:
    """Download the release's files whose sha256 may be one the files give; keep
    those whose bytes have one. Why none was found, or None."""
    from peep_hook.commands.fill.pip_index import FillError

    try:
        files = index.files_of(dist.name, dist.version or "")
        chosen = [f for f in files if f.sha256 in hexes]
        unpublished = [f for f in files if f.sha256 is None]
        candidates = chosen or unpublished
        wheels = [f for f in candidates if f.is_wheel]
        # An sdist holds no installed files, but a distribution built from one
        # is checked against the wheel kept at install and the sdist's own
        # modules: fetched only when no wheel holds the distribution.
        for f in wheels + [f for f in candidates if not f.is_wheel]:
            if not f.is_wheel and dist.metadata_dir in found.wheels:
                break
            download = index.download(f.url)
            if download.sha256 in hexes:  # the bytes, not what the page says
                found.add(download.path, download.sha256)
    except FillError as exc:
        return str(exc)
    if not files:
        return f"no file of {dist.label()} {found.where}"
    return None


def check(result: Result, named: dict[str, Named], unnamed_hexes: set[str],
          archives: Archives, built_wheels: str | None = None) -> None:
    for dist in result.distributions:
        entry = named.get(dist.key)
        hexes = (entry.hexes if entry is not None else set()) | unnamed_hexes
        reason, candidates = _candidates(dist, entry, hexes, archives, built_wheels)
        if reason is not None:
            dist.basis_reason = reason
            result.add("no-archive", f"{dist.label()} was not checked against an archive: "
                       f"{reason}", dist)
            continue
        fixed: list[set[str]] = [set() for _ in candidates]
        outcomes = [_against(dist, archive, f) for archive, f in zip(candidates, fixed)]
        # Several wheels of one release may hold the same .dist-info: one must match.
        best = next((i for i, o in enumerate(outcomes) if not o), None)
        if best is not None:
            _set_basis(dist, candidates[best])
            dist.shebang_fixed = fixed[best]
            continue
        hinted = next((o for a, o in zip(candidates, outcomes) if a.sha256 == dist.record),
                      outcomes[0])
        _set_basis(dist, candidates[0])
        for message, path in hinted:
            result.add("archive-mismatch", f"{dist.label()}: {message}", dist, path)


def _candidates(dist: Distribution, entry: Named | None, hexes: set[str],
                archives: Archives, built_wheels: str | None = None,
                ) -> tuple[str | None, list[Archive]]:
    """(why it cannot be checked, or None; the wheels to check it against)."""
    if not dist.metadata_dir.endswith(".dist-info"):
        return "installed by setup.py or as editable: no archive holds its files", []
    direct = _direct_url(dist)
    if isinstance(direct, dict) and "dir_info" in direct:
        return "installed from a directory, not an archive", []
    if not hexes:
        return ("the files give no sha256 for it" if entry is not None
                else "no file gives a hash for it (not in the files)"), []
    wheels = [a for a in archives.wheels.get(dist.metadata_dir, []) if a.sha256 in hexes]
    if wheels:
        return None, wheels
    if hexes & archives.sdists:
        return _built_wheels(dist, hexes & archives.sdists, archives, built_wheels)
    unreachable = archives.unreachable.get(dist.metadata_dir)
    if unreachable is not None:
        return f"{unreachable} (archive unreachable)", []
    return (f"no archive {archives.where} holds {dist.metadata_dir} with a "
            "sha256 the files give (archive unreachable)"), []


# -- built from a verified sdist ------------------------------------------------------


def _built_wheels(dist: Distribution, digests: set[str], archives: Archives,
                  directory: str | None) -> tuple[str | None, list[Archive]]:
    """The wheels kept at install (:func:`peep_hook.core.install_record.keep_built_wheel`)
    as built from these verified sdists, found by the sdists' sha256 alone."""
    found = []
    if directory is not None:
        for digest in sorted(digests):
            folder = os.path.join(directory, digest)
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            for name in names:
                path = os.path.join(folder, name)
                if name.endswith(".whl") and _holds(path, dist.metadata_dir):
                    found.append(Archive(path, digest, archives.sdist_paths[digest]))
    if found:
        return None, found
    where = directory if directory is not None else "no directory of built wheels"
    return (f"built from an sdist, and no wheel built from it at install is kept in "
            f"{where} (checked against RECORD only)"), []


def _against_sdist(archive: Archive, members: dict[str, str]) -> list[tuple[str, str | None]]:
    """Each module of the kept wheel whose path the verified sdist also holds
    (at its top or under ``src/``) must have the sdist's bytes: for those,
    evidence beyond the kept wheel. A build may generate or change modules;
    only the ones it left as they are can be proven this way."""
    assert archive.built_from is not None
    sources = _sdist_sources(archive.built_from)
    found: list[tuple[str, str | None]] = []
    wheel_name, sdist_name = os.path.basename(archive.path), os.path.basename(archive.built_from)
    modules = {full: m for full, m in members.items() if m.endswith(".py")}
    compared = 0
    with zipfile.ZipFile(archive.path) as zf:
        for full, member in sorted(modules.items()):
            path = next((p for p in (member, "src/" + member) if p in sources), None)
            if path is None:
                continue
            compared += 1
            if hashlib.sha256(zf.read(member)).hexdigest() != sources[path]:
                found.append((f"{member} in the kept {wheel_name} differs from {path} in the "
                              f"verified sdist {sdist_name} (the build changed it, or the "
                              "kept wheel was altered)", full))
    archive.compared = (f"{compared} of its {len(modules)} modules also compared with the "
                        "sdist's own files")
    return found


def _sdist_sources(path: str) -> dict[str, str]:
    """sha256 of each ``.py`` file of an sdist, by its path below the top directory."""
    found = {}
    try:
        if path.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if name.endswith(".py"):
                        found[name] = hashlib.sha256(zf.read(name)).hexdigest()
        else:
            with tarfile.open(path) as tf:
                for info in tf:
                    wanted = info.isfile() and info.name.endswith(".py")
                    f = tf.extractfile(info) if wanted else None  # read, never extracted
                    if f is not None:
                        found[info.name] = hashlib.sha256(f.read()).hexdigest()
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError):
        return {}
    return {name.split("/", 1)[1]: digest for name, digest in found.items() if "/" in name}


def _holds(path: str, metadata_dir: str) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.startswith(metadata_dir + "/") for n in zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _set_basis(dist: Distribution, archive: Archive) -> None:
    if archive.built_from is None:
        dist.basis = "archive"
        return
    # Honest about what this proves: the sdist's hash is verified; that the
    # wheel is what it built rests on the directory the wheel is kept in.
    dist.basis = "built-wheel"
    dist.basis_reason = (
        f"built from the verified sdist {archive.built_from}: checked against the wheel "
        f"built from it at install, kept in {archive.path} (trusted as far as that "
        f"directory is protected: --deep does not rebuild the sdist); {archive.compared}")


def _direct_url(dist: Distribution) -> object:
    try:
        with open(os.path.join(dist.location, dist.metadata_dir, "direct_url.json"),
                  encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# -- one distribution against one wheel ---------------------------------------------


def _against(dist: Distribution, archive: Archive,
             fixed: set[str]) -> list[tuple[str, str | None]]:
    """What differs between the installed distribution and the wheel; ``fixed``
    gets the scripts that match their member after pip's shebang."""
    from peep_hook.commands.verify import full_path

    site, meta = dist.location, dist.metadata_dir
    found: list[tuple[str, str | None]] = []
    name = os.path.basename(archive.path)
    data_dir = meta[: -len(".dist-info")] + ".data/"
    members: dict[str, str] = {}  # installed path -> member
    schemes = _scheme_dirs(dist)
    with zipfile.ZipFile(archive.path) as zf:
        for info in zf.infolist():
            member = info.filename
            if member.endswith("/") or member == f"{meta}/RECORD":
                continue
            full = full_path(site, member)
            if member.startswith(data_dir):
                scheme, _, target = member[len(data_dir):].partition("/")
                if scheme not in schemes:
                    found.append((f"{member} is in no .data directory pip installs", None))
                    continue
                full = _data_path(dist, schemes, scheme, target)
            members[full] = member
        scripts = schemes["scripts"] + os.sep
        for full, member in members.items():
            # Byte code of a member's source: pip recompiles it, and its code is
            # what counts (plain verify's check compares it with the source's).
            where = bytecode.source_of(full) if full.endswith(".pyc") else None
            if where is not None and where.tag == bytecode.TAG and where.source in members:
                continue
            is_script = member.startswith(data_dir) and full.startswith(scripts)
            why = (_same_script(zf, member, full, fixed) if is_script
                   else _same_bytes(zf, member, full))
            if why:
                found.append((f"{os.path.relpath(full, site)} {why} in {name}", full))
        entry_points = _entry_points(zf, f"{meta}/entry_points.txt")
    found += _record_rows(dist, archive, members, entry_points)
    if archive.built_from is not None:
        found += _against_sdist(archive, members)
    return found


def _scheme_dirs(dist: Distribution) -> dict[str, str]:
    """Where pip installs each ``.data`` directory of a wheel into ``dist.location``:
    the interpreter's install scheme, placed relative to its site-packages (so that
    RECORD's ``../../../bin/x`` resolves to the same path). Headers: pip's
    ``include/site/pythonX.Y`` in a venv, else the interpreter's include dir;
    below it, one directory named for the distribution (:func:`_data_path`)."""
    paths = sysconfig.get_paths()
    site = dist.location
    base = next((paths[k] for k in ("platlib", "purelib")
                 if os.path.realpath(paths[k]) == os.path.realpath(site)), paths["purelib"])
    include = paths["include"]
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix):  # a venv, as pip sees it
        include = os.path.join(sys.prefix, "include", "site",
                               f"python{sys.version_info[0]}.{sys.version_info[1]}")

    def place(path: str) -> str:
        return os.path.normpath(os.path.join(site, os.path.relpath(path, base)))

    return {"purelib": os.path.normpath(site), "platlib": os.path.normpath(site),
            "scripts": place(paths["scripts"]), "headers": place(include),
            "data": place(paths["data"])}


def _data_path(dist: Distribution, schemes: dict[str, str], scheme: str, target: str) -> str:
    if scheme != "headers":
        return os.path.normpath(os.path.join(schemes[scheme], target))
    # pip names the headers' directory as the requirement spells the project:
    # take the one RECORD lists for this header, any under the headers dir.
    base = schemes["headers"] + os.sep
    for full in _record_fulls(dist):
        if full.startswith(base) and full[len(base):].partition(os.sep)[2] == target:
            return full
    return os.path.normpath(os.path.join(base, dist.name, target))


def _record_fulls(dist: Distribution) -> list[str]:
    from peep_hook.commands.verify import full_path

    try:
        rows = _record_paths(dist)
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    return [full_path(dist.location, path) for path in rows]


def _record_paths(dist: Distribution) -> list[str]:
    import csv

    with open(os.path.join(dist.location, dist.metadata_dir, "RECORD"),
              encoding="utf-8", newline="") as f:
        return [row[0] for row in csv.reader(f) if row and row[0]]


def _same_script(zf: zipfile.ZipFile, member: str, path: str,
                 fixed: set[str]) -> str | None:
    """A ``.data/scripts`` member: pip replaces a first line ``#!python...`` with
    its shebang for this interpreter and copies the rest."""
    data = zf.read(member)
    if not data.startswith(b"#!python"):
        return _same_bytes(zf, member, path)
    try:
        with open(path, "rb") as f:
            installed = f.read()
    except FileNotFoundError:
        return "is missing: it is a member"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc}), to compare with its member"
    first, _, rest = installed.partition(b"\n")
    expected = data.partition(b"\n")[2]
    shebang = first.rstrip(b"\r")
    ok = (shebang.startswith(b"#!") and _is_this_python(os.fsdecode(shebang[2:].strip()))
          and rest == expected)
    if not ok:
        return "differs from its member (after pip's shebang)"
    fixed.add(path)
    return None


def _same_bytes(zf: zipfile.ZipFile, member: str, path: str) -> str | None:
    try:
        with zf.open(member) as expected, open(path, "rb") as installed:
            while True:
                want, have = expected.read(CHUNK), installed.read(CHUNK)
                if want != have:
                    return "differs from its member"
                if not want:
                    return None
    except FileNotFoundError:
        return "is missing: it is a member"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc}), to compare with its member"


def _record_rows(dist: Distribution, archive: Archive, members: dict[str, str],
                 entry_points: dict[str, str]) -> list[tuple[str, str | None]]:
    """Every file RECORD lists: a member, the byte code of one, or a file pip writes."""
    import csv

    from peep_hook.commands.verify import default_site_dirs, full_path

    site, meta = dist.location, dist.metadata_dir
    found: list[tuple[str, str | None]] = []
    try:
        rows = _record_paths(dist)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [(f"its RECORD cannot be read ({exc})", None)]
    pip_writes = {f"{meta}/{n}" for n in ("INSTALLER", "REQUESTED", "direct_url.json",
                                          "RECORD", RECORD_NAME)}
    scripts_seen: set[str] = set()
    for path in rows:
        full = full_path(site, path)
        if full in members:
            continue
        if path in pip_writes:
            why = _pip_file(path.rsplit("/", 1)[1], full, archive)
        elif path.endswith(".pyc"):
            where = bytecode.source_of(full)
            ok = where is not None and where.tag == bytecode.TAG and where.source in members
            why = None if ok else "is byte code of no source the archive installs"
        elif _script_name(path) is not None:
            why = _script(full, _script_name(path) or "", entry_points)
            scripts_seen.add(os.path.realpath(full))
        else:
            why = "is not installed by the archive, nor written by pip"
        if why:
            found.append((f"{path}, which RECORD lists, {why}", full))
    # A console script whose RECORD line was removed still runs: look where pip
    # puts them for this interpreter's own site-packages.
    if os.path.realpath(site) in {os.path.realpath(d) for d in default_site_dirs()}:
        scripts = sysconfig.get_paths()["scripts"]
        for name in entry_points:
            full = os.path.join(scripts, name)
            if os.path.realpath(full) not in scripts_seen and os.path.lexists(full):
                why = _script(full, name, entry_points)
                if why:
                    found.append((f"{full} {why}", full))
    return found


def _pip_file(name: str, path: str, archive: Archive) -> str | None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if name == "INSTALLER":
        return None if data == b"pip\n" else "is not what pip writes (pip)"
    if name == "REQUESTED":
        return None if data == b"" else "is not what pip writes (nothing)"
    if name == "RECORD":
        return None  # its rows are checked one by one
    try:
        value = json.loads(data.decode("utf-8"))
    except ValueError:
        return "is not JSON"
    if name == "direct_url.json":
        ok = isinstance(value, dict) and isinstance(value.get("url"), str)
        return None if ok and "dir_info" not in value else "is not what pip writes for an archive"
    if not isinstance(value, dict) or value.get("sha256") != archive.sha256:
        return f"does not name this archive's sha256 {archive.sha256}"
    return None


# -- console scripts ------------------------------------------------------------------


def _entry_points(zf: zipfile.ZipFile, member: str) -> dict[str, str]:
    try:
        text = zf.read(member).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return {}
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    found = {}
    for group in ("console_scripts", "gui_scripts"):
        if parser.has_section(group):
            found.update({k.strip(): v.strip() for k, v in parser.items(group)})
    return found


def _script_name(path: str) -> str | None:
    """The script name of a RECORD path in a bin directory (beside site-packages,
    or in a --target directory)."""
    parent, name = os.path.split(path)
    if os.path.basename(parent) not in ("bin", "Scripts"):
        return None
    return name[:-4] if name.endswith(".exe") else name


def _script(path: str, name: str, entry_points: dict[str, str]) -> str | None:
    spec = entry_points.get(name)
    # pip writes pip, pipX and pipX.Y (easy_install too) from one entry point.
    for base, pattern in (("pip", r"pip(\d+(\.\d+)?)?"), ("easy_install",
                                                         r"easy_install(-\d+\.\d+)?")):
        if spec is None and re.fullmatch(pattern, name) and base in entry_points:
            spec = entry_points[base]
    if spec is None:
        return "is a script for no entry point of the archive"
    module, _, func = spec.partition(":")
    module, func = module.strip(), func.split("[")[0].strip()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    body = _after_shebang(data)
    if body is None:
        return "does not start with pip's shebang for this Python"
    if not module or not func or not _script_body_ok(body, module, func):
        return "is not the console script pip writes for its entry point"
    return None


def _after_shebang(data: bytes) -> bytes | None:
    """The script after pip's shebang, if that names this interpreter."""
    first, _, rest = data.partition(b"\n")
    if first == b"#!/bin/sh":  # distlib's form for long paths or paths with spaces
        second, _, rest = rest.partition(b"\n")
        match = re.fullmatch(rb"'''exec' (\"?)(.+)\1 \"\$0\" \"\$@\"", second)
        third, _, rest = rest.partition(b"\n")
        if match is None or third != b"' '''":
            return None
        executable = match.group(2)
    elif first.startswith(b"#!"):
        executable = first[2:].strip()
    else:
        return None
    return rest if _is_this_python(os.fsdecode(executable)) else None


def _is_this_python(executable: str) -> bool:
    # In this environment's own bin directory, and the same interpreter.
    return (os.path.dirname(executable) == os.path.dirname(sys.executable)
            and os.path.realpath(executable) == os.path.realpath(sys.executable))


# Statements pip's console scripts hold, across pip's templates (20.3 to 26.3).
_ARGV_FORMS = (
    "sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])",
    "sys.argv[0] = sys.argv[0].removesuffix('.exe')",
    "if sys.argv[0].endswith('.exe'):\n    sys.argv[0] = sys.argv[0][:-4]",
)


def _script_body_ok(body: bytes, module: str, func: str) -> bool:
    try:
        tree = ast.parse(body)
    except (SyntaxError, ValueError):
        return False
    allowed = {_dump(s) for s in ("import re", "import sys", *_ARGV_FORMS,
                                  f"from {module} import {func.split('.')[0]}",
                                  f"sys.exit({func}())")}
    main_test = _dump("__name__ == '__main__'", expression=True)
    statements = list(tree.body)
    if not statements or not isinstance(statements[-1], ast.If):
        return False
    guard = statements.pop()
    assert isinstance(guard, ast.If)
    if guard.orelse or ast.dump(guard.test) != main_test:
        return False
    calls = [s for s in guard.body if _dump_node(s) == _dump(f"sys.exit({func}())")]
    return len(calls) == 1 and all(_dump_node(s) in allowed
                                   for s in _all(statements, guard.body))


def _all(*groups: Iterable[ast.stmt]) -> Iterable[ast.stmt]:
    for group in groups:
        yield from group


def _dump(source: str, *, expression: bool = False) -> str:
    tree = ast.parse(source, mode="eval" if expression else "exec")
    if expression:
        assert isinstance(tree, ast.Expression)
        return ast.dump(tree.body)
    assert isinstance(tree, ast.Module)
    return _dump_node(tree.body[0])


def _dump_node(node: ast.AST) -> str:
    return ast.dump(node)
