"""The messages users read: what was expected, what was got, what to paste.

Texts are appended to pip's own hash-error messages, so they reach the user
through pip's ``ERROR:`` output and logging. Functions here read pip's error
and requirement objects only through a few long-stable attributes
(``req``, ``gotten_hash``, ``allowed``, ``gots``, ``link``, ``original_link``).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from peep_hook.core.hashes import EMPTY_SHA256_HEX, hex_to_peep
from peep_hook.core.reqfile import HashLine

# pip's comes_from for a line of a file: "-r requirements.txt (line 3)"
_COMES_FROM_FILE = re.compile(r"-[rc] (.+?)(?: \(line \d+\))?$")
_COMES_FROM_LINE = re.compile(r"-[rc] (.+) \(line (\d+)\)$")
_PYLOCK_NAME = re.compile(r"pylock(?:\.[^.]+)?\.toml")  # PEP 751's file names
#: the pip command running (set by the hook as it starts): what a refusal spared
_command = ["install"]
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")


@dataclass(frozen=True)
class Origin:
    """Where an expected hash was written, and in which form."""

    written: str  # "# sha256: <base64>" or "--hash=sha256:<hex>"
    filename: str
    lineno: int


def set_command(name: str) -> None:
    _command[0] = name


def nothing_done() -> str:
    """What a refusal leaves undone (``pip download`` and ``pip wheel`` install nothing)."""
    saves = _command[0] in ("download", "wheel")
    return "Nothing was saved." if saves else "Nothing was installed."


def peep_line(hex_digest: str) -> str:
    return f"# sha256: {hex_to_peep(hex_digest)}"


def pip_option(hex_digest: str) -> str:
    return f"--hash=sha256:{hex_digest}"


def explain_hash_errors(errors: Iterable[Any], origins: Mapping[str, Origin]) -> str:
    """peep-hook's account of pip's hash errors, to append to pip's message."""
    sections = []
    missing = []
    for error in errors:
        if hasattr(error, "gotten_hash"):
            missing.append(block_for(error.req, error.gotten_hash))
        elif hasattr(error, "allowed") and hasattr(error, "gots"):
            sections.append(_mismatch(error, origins))
        elif type(error).__name__ == "HashUnpinned":
            sections.append(_unpinned(error))
    if missing:
        sections.append(missing_hashes(missing, final=False))
    if not sections:
        return ""
    return "\n\n" + "\n\n".join(sections)


@dataclass(frozen=True)
class Block:
    """The block to paste for an archive that no file gives a hash for."""

    requirement: str  # the line under the hash line: name==version, or the URL
    sha256: str  # hex
    #: the requirements file and line that name it, if a line does
    line: tuple[str, int] | None = None
    #: the requirement it is a dependency of, if it is one
    via: str | None = None
    #: where to paste it: the file of the requirement that led to it
    target: str = ""
    #: the sdist (its name, then its archive) whose build needs it
    build_for: str | None = None


def block_for(req: Any, got: str) -> Block:
    """The block for ``req``, whose archive hashed to ``got`` (hex)."""
    comes_from = getattr(req, "comes_from", None)
    via = None
    if comes_from is not None and not isinstance(comes_from, str):
        via = _chosen(comes_from)
    return Block(
        # A block that pins a dependency may go to a constraints file, where
        # pip refuses extras.
        requirement=paste_requirement(req, extras=via is None),
        sha256=got,
        line=source_line(comes_from),
        via=via,
        target=_where_to_paste(_root(req)),
    )


def _chosen(req: Any) -> str:
    """``name==version`` of the archive pip chose for ``req``, if it can tell."""
    inner = getattr(req, "req", None)
    version = _version_from_filename(_archive_name(req))
    if inner is not None and version is not None:
        return f"{inner.name}=={version}"
    return str(inner or req)


def missing_hashes(blocks: Sequence[Block], stopped: Sequence[str] = (), *,
                   final: bool = True) -> str:
    """Every block to add, grouped by where it goes. ``stopped``: why pip
    could not collect further, one paragraph each."""
    count = len(blocks)
    plural = "s" if count != 1 else ""
    head = (f"peep-hook: {count} archive{plural} that pip needs "
            f"{'have' if count != 1 else 'has'} no hash in any requirements or "
            "constraints file.")
    if final:
        head += " " + nothing_done()
    head += (f" {'The blocks to add, each' if count != 1 else 'The block to add,'} "
             "complete: the # sha256: line (the hash of the archive just downloaded: "
             "add it only if you trust that archive), then the requirement.")
    parts = [head]
    plain = [b for b in blocks if b.build_for is None]
    lines = [b for b in plain if b.line is not None]
    named = [b for b in plain if b.line is None and b.via is None]
    for filename, group in _grouped(lines, lambda b: b.line[0] if b.line else ""):
        numbers = ", ".join(str(b.line[1]) for b in group if b.line is not None)
        each = "each block in place of its line" if len(group) != 1 else "the block in its place"
        parts.append(f"In {filename}, line{'s' if len(group) != 1 else ''} {numbers}: "
                     f"put {each}.\n\n" + _blocks(group))
    if named:
        parts.append("Requirements named on the command line: peep-hook takes hashes "
                     "from requirements files only, so put these blocks in one and "
                     "install it with -r.\n\n" + _blocks(named))
        if any(_project(b.requirement) in _BOOTSTRAP for b in named):
            parts.append(_BOOTSTRAP_HINT)
    for target, group in _grouped([b for b in plain if b.line is None and b.via is not None],
                                  lambda b: b.target):
        parts.append(f"Dependencies that no file names: add these blocks to "
                     f"{target or 'your requirements file'}, or to a constraints file "
                     "given with -c, which pins them without installing them unless "
                     "something needs them.\n\n" + _blocks(group))
    for building, group in _grouped([b for b in blocks if b.build_for is not None],
                                    lambda b: b.build_for):
        parts.append(f"Build dependencies of {building} that no file pins with a hash: "
                     f"add these blocks to {group[0].target or 'your requirements file'}, "
                     "which also installs them, or to a constraints file given with "
                     "-c, which pins them without installing them.\n\n" + _blocks(group))
    if blocks:
        parts.append("Or, in pip's form, one line each:\n\n" + "\n".join(
            f"{b.requirement} {pip_option(b.sha256)}" for b in blocks))
    parts.extend(stopped)
    return "\n\n".join(parts)


#: what deploy scripts upgrade before ``pip install -r``, naming no file
_BOOTSTRAP = ("pip", "setuptools", "wheel")
_BOOTSTRAP_HINT = (
    "A bootstrap step (pip install -U pip setuptools wheel, python -m venv "
    "--upgrade-deps, virtualenv --download) keeps working unchanged once these "
    "blocks are in a constraints file named in pip's own configuration, for the "
    "whole machine: [global] constraint = /etc/pip/bootstrap-constraints.txt in "
    "/etc/pip.conf (see \"Bootstrap steps\" in peep-hook's README).")


def _project(requirement: str) -> str:
    return re.split(r"[\s\[=<>!~;@]", requirement, maxsplit=1)[0].lower()


def _blocks(blocks: Sequence[Block]) -> str:
    out = []
    for b in blocks:
        text = f"{peep_line(b.sha256)}\n{b.requirement}"
        if b.via is not None:
            text += f"\n    # via {b.via}"
        elif b.build_for is not None:
            text += f"\n    # build dependency of {b.build_for.split(' (')[0]}"
        out.append(text)
    return "\n\n".join(out)


def _grouped(blocks: Sequence[Block], key: Any) -> list[tuple[str, list[Block]]]:
    groups: dict[str, list[Block]] = {}
    for b in blocks:
        groups.setdefault(key(b), []).append(b)
    return list(groups.items())


def stopped_at_sdist(req: Any) -> str:
    return (f"pip stopped collecting at {_building(req)}: an sdist without a hash, "
            "whose dependencies are known only by running its code. Once its block "
            "is in, the next run lists any more that are missing.")


def not_fetched(name: str, url: str, comes_from: Any) -> str:
    """One direct reference from metadata that was not fetched."""
    named_by = f" (named by {_chosen(comes_from)})" if comes_from is not None else ""
    return f"not fetched: {name} @ {url}{named_by}"


def not_followed(lines: Sequence[str]) -> str:
    return ("peep-hook did not follow these direct references (a URL or a path) named "
            "in archives' metadata: archives without hashes were found, pip reads their "
            "metadata only to list every missing block in one run, and what it says "
            "never makes pip fetch a URL or read a file. Once the blocks are in, the "
            "next run fetches each and checks it against its hash, as pip would.\n\n"
            + "\n".join(f"    {line}" for line in lines))


def stopped_at_build(for_req: Any, kind: str = "build dependencies") -> str:
    return (f"pip stopped collecting at {_building(for_req)}: it cannot be built "
            f"until its {kind} are pinned with hashes, and only its build tells what "
            "it depends on. Once these blocks are in, the next run lists any more "
            "that are missing.")


def _mismatch(error: Any, origins: Mapping[str, Origin]) -> str:
    req = error.req
    got_hash = error.gots.get("sha256")
    got = got_hash.hexdigest() if got_hash is not None else None
    expected = list(error.allowed.get("sha256", []))
    lines = [f"peep-hook: {_name(req)}{_context(req)} does not match any hash given for it."]
    for i, hex_digest in enumerate(expected):
        label = "Expected" if i == 0 else "      or"
        origin = origins.get(hex_digest)
        if origin is None:
            # Not from a line this pip read: say where else it came from.
            told = getattr(error, "peep_hook_origins", {}).get(hex_digest)
            told = told or _lock_origin(req, hex_digest)
            lines.append(f"    {label}  {pip_option(hex_digest)}    "
                         f"({told or 'given for it, origin unknown'})")
        else:
            where = f"{os.path.basename(origin.filename)}, line {origin.lineno}"
            lines.append(f"    {label}  {origin.written}    ({where})")
    if got is not None:
        lines.append(f"    Got       {peep_line(got)}")
        lines.append(f"              {pip_option(got)}")
    filename = _archive_name(req)
    if filename:
        lines.append(f"    Archive   {filename} ({_kind(filename)})")
    incomplete = getattr(error, "peep_hook_incomplete", False)
    link = getattr(req, "link", None)
    source = _source_of(link)
    block_files = getattr(error, "peep_hook_block_files", None) or []
    lines.append(f"    Hint: {_mismatch_hint(got, filename, incomplete, source, block_files)}")
    return "\n".join(lines)


def _lock_origin(req: Any, hex_digest: str) -> str | None:
    """Where a pylock.toml (pip 26.1+: ``-r pylock.toml``) gave this hash: the
    file, the line that holds it, and the package entry."""
    lock = getattr(req, "comes_from", None)
    if not isinstance(lock, str) or not _PYLOCK_NAME.fullmatch(os.path.basename(lock)):
        return None
    where = os.path.basename(lock)
    try:
        with open(lock, encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                if hex_digest in line.lower():
                    where += f", line {lineno}"
                    break
    except (OSError, ValueError):  # a URL, or unreadable now: the name is enough
        pass
    return f"{where}, in the [[packages]] entry for {_name(req)}"


def _source_of(link: Any) -> str:
    """Who handed pip this archive, as far as peep-hook can tell."""
    if link is None:
        return "pip got"
    if getattr(link, "is_file", False):
        return f"the file at {link.file_path} is"
    host = getattr(link, "netloc", None) or "the index"
    # pip may have replayed an earlier download from its HTTP cache: the
    # bytes came from the index once, but not necessarily in this run.
    return f"{host} (or pip's HTTP cache of an earlier download from it) served"


def _mismatch_hint(got: str | None, filename: str | None, incomplete: bool = False,
                   source: str = "the index served", block_files: Sequence[str] = ()) -> str:
    """``block_files``: the other files of this release the index publishes
    the block's hashes for (described: "the cp311 wheel (<filename>)")."""
    if got == EMPTY_SHA256_HEX:
        return (
            "the archive is empty: the download was truncated or the server sent "
            "nothing. Try again later; do not change the hash."
        )
    if incomplete:
        return (
            "the archive is cut short (it ends before its own structure does): "
            "the download was probably truncated. Try again later; do not change "
            "the hash."
        )
    kind = _kind(filename) if filename else "a file"
    cache = (" If it came from pip's HTTP cache, `pip cache purge` removes it; "
             "the next run then downloads afresh." if "HTTP cache" in source else "")
    if block_files:
        advice = (
            f"The block's hash is for {_and(block_files)}, going by the sha256 published "
            f"beside it; this is Python {_this_python()}, and pip chose this file. "
            "`peep-hook fill --all-files` hashes every file of the release (with "
            "`--update`, it also replaces hashes that match no file of it). Do so only "
            "once you know the files are genuine.")
    else:
        advice = (
            "If the block's hashes are for another file of this release (the sdist, or a "
            f"wheel for another Python or platform; this is Python {_this_python()}), "
            "`peep-hook fill --all-files` hashes every file of it; if they are for another "
            "version (stale after a version bump), `peep-hook fill --update` replaces them. "
            "Do either only once you know the files are genuine.")
    return (
        f"{source} {kind}. {advice}{cache} If nothing changed on your side, the archive "
        "may have been tampered with: do not install it."
    )


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _this_python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def _unpinned(error: Any) -> str:
    return (
        f"peep-hook: {_name(error.req)}{_context(error.req)} has hashes but no exact "
        "version. Pin it with == to the version the hashes are for (peep-hook "
        "requires this on every pip, including those that would accept it)."
    )


def malformed_hash_lines(filename: str, bad: Sequence[HashLine]) -> str:
    lines = [f"peep-hook: malformed hash lines in {filename}:"]
    lines.extend(f"    line {h.lineno}: {h.error}" for h in bad)
    lines.append(
        "A malformed hash can never match an archive, so pip installs, downloads "
        "and builds nothing until these lines are fixed or removed."
    )
    return "\n".join(lines)


def building(for_req: Any) -> str:
    """The sdist being built, as messages name it: ``app==1.0 (app-1.0.tar.gz)``."""
    return _building(for_req)


def where_to_paste(req: Any) -> str:
    """The file the blocks for ``req`` (or its dependencies) go to."""
    return _where_to_paste(_root(req)) if req is not None else "your requirements file"


def _building(for_req: Any) -> str:
    if for_req is None:
        return "a source distribution"
    archive = _archive_name(for_req)
    return f"{_name(for_req)} ({archive})" if archive else _name(for_req)


def build_dependencies_failed(for_req: Any, pinned: Sequence[str], unpinned: Sequence[str]) -> str:
    """The build dependencies could not be installed, for a reason other than
    missing hashes (those get their blocks: :func:`missing_hashes`)."""
    cause = (f"could not install its build dependencies ({', '.join(pinned)}) with "
             "verified hashes; pip's output above says why.")
    if unpinned:
        cause += (" No requirements or constraints file pins these with a hash: "
                  f"{', '.join(unpinned)}.")
    return f"peep-hook: building {_building(for_req)} {cause} {nothing_done()}"


def build_dependencies_missing_brief(blocks: Sequence[Block]) -> str:
    """In a build child: its blocks go to the pip that started it, which shows them."""
    names = ", ".join(b.requirement for b in blocks)
    return (f"peep-hook: {len(blocks)} build dependenc{'ies' if len(blocks) != 1 else 'y'} "
            f"without a hash ({names}); the pip that started this build lists the "
            "blocks to add.")


def build_pin_conflicts(for_req: Any, conflicts: Sequence[tuple[str, str, str]]) -> str:
    lines = [f"peep-hook: building {_building(for_req)} needs build dependencies "
             "that the hashed pins in your files do not satisfy:"]
    lines += [f"    {text}, but {origins} pins {version}" for text, version, origins in conflicts]
    lines.append(f"Pin versions that satisfy them (with their hashes). {nothing_done()}")
    return "\n".join(lines)


def build_child_unchecked(for_req: Any, requirements: Sequence[str]) -> str:
    return (
        f"peep-hook: building {_building(for_req)} would install build dependencies "
        f"({', '.join(requirements)}) in a separate virtual environment "
        "(--use-feature venv-isolation), where peep-hook cannot check their "
        f"hashes. {nothing_done()} Drop that option, or add "
        "--use-feature inprocess-build-deps so pip installs them itself."
    )


def installed_unverified(req: Any, dist: Any, expected: Sequence[str],
                         recorded: str | None) -> str:
    where = getattr(dist, "location", None) or "this environment"
    version = getattr(dist, "version", "?")
    if not expected:
        why = "no requirements or constraints file gives a hash for it"
        if recorded:
            why += (f". It was installed from an archive with this hash, which you "
                    f"may add once you trust it:\n\n{peep_line(recorded)}\n"
                    f"{_name_of(req)}=={version}\n")
    elif recorded is None:
        why = ("peep-hook has no record of verifying the archive it came from "
               "(it was installed before peep-hook, or by another tool)")
    else:
        why = (f"it was installed from an archive with hash {peep_line(recorded)}, "
               "which is not one of the hashes given for it now")
    return (
        f"peep-hook: {_name(req)}{_context(req)} is already installed "
        f"({_name_of(req)} {version} in {where}), but {why}. pip would trust it "
        "unchecked. Reinstall it from a verified archive with --force-reinstall, "
        "or install into a fresh virtualenv."
    )


def _name_of(req: Any) -> str:
    inner = getattr(req, "req", None)
    return str(inner.name) if inner is not None else str(getattr(req, "name", "?"))


def paste_requirement(req: Any, extras: bool = True) -> str:
    """The requirement line to paste under a ``# sha256:`` line for ``req``
    (without its extras if not ``extras``)."""
    link = getattr(req, "original_link", None)
    if link is not None:  # a URL or file requirement: paste it as written
        return str(link.url)
    inner = getattr(req, "req", None)
    if inner is None:
        return str(req)
    exact = exact_version(inner)
    dependency = not isinstance(getattr(req, "comes_from", None), (str, type(None)))
    if exact is not None and not dependency and (extras or not inner.extras):
        return str(inner)  # the user's own line, markers and all
    # What pip chose, never a range (``==1.*``) or a dependency's marker,
    # which would not hold in the file the block goes to.
    version = _version_from_filename(_archive_name(req)) or exact
    wanted = f"[{','.join(sorted(inner.extras))}]" if inner.extras and extras else ""
    return f"{inner.name}{wanted}=={version}" if version else str(inner)


def exact_version(inner: Any) -> str | None:
    """The one version a requirement's specifier pins, or None: ``==1.*`` and
    ranges pin none."""
    specs = list(getattr(inner, "specifier", None) or ())
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    return str(specs[0].version)


def requirement_text(req: Any) -> str:
    """The requirement as pip names it (``name==1.0`` or its URL), for logs."""
    return _name(req)


def source_line(comes_from: Any) -> tuple[str, int] | None:
    """(file, line) from pip's ``-r file (line N)``, or None."""
    if not isinstance(comes_from, str):
        return None
    match = _COMES_FROM_LINE.match(comes_from)
    return (match.group(1), int(match.group(2))) if match else None


def _name(req: Any) -> str:
    inner = getattr(req, "req", None)
    if inner is not None:
        return str(inner)
    link = getattr(req, "link", None)
    return str(link.url) if link is not None else "unknown package"


def _context(req: Any) -> str:
    comes_from = getattr(req, "comes_from", None)
    if comes_from is None:
        return ""
    if isinstance(comes_from, str):
        return f" (from {comes_from})"
    parent = getattr(comes_from, "req", None) or comes_from
    return f" (a dependency of {parent})"


def _root(req: Any) -> Any:
    """The requirement that led to ``req``: itself, or the first of its chain
    of dependents that pip read from a file or the command line."""
    seen = 0
    while seen < 100 and not isinstance(getattr(req, "comes_from", None), (str, type(None))):
        req, seen = req.comes_from, seen + 1
    return req


def _where_to_paste(req: Any) -> str:
    comes_from = getattr(req, "comes_from", None)
    match = _COMES_FROM_FILE.match(comes_from) if isinstance(comes_from, str) else None
    return match.group(1) if match else "your requirements file"


def _archive_name(req: Any) -> str | None:
    link = getattr(req, "link", None)
    filename = getattr(link, "filename", None) if link is not None else None
    return filename or None


def _kind(filename: str) -> str:
    if filename.endswith(".whl"):
        return "a wheel"
    if filename.endswith(SDIST_SUFFIXES):
        return "an sdist"
    return "a file"


def _version_from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else None
    for suffix in SDIST_SUFFIXES:
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            return stem.rsplit("-", 1)[1] if "-" in stem else None
    return None
