"""The messages users read: what was expected, what was got, what to paste.

Texts are appended to pip's own hash-error messages, so they reach the user
through pip's ``ERROR:`` output and logging. Functions here read pip's error
and requirement objects only through a few long-stable attributes
(``req``, ``gotten_hash``, ``allowed``, ``gots``, ``link``, ``original_link``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from peep_hook.hashes import EMPTY_SHA256_HEX, hex_to_peep
from peep_hook.reqfile import HashLine

# pip's comes_from for a line of a file: "-r requirements.txt (line 3)"
_COMES_FROM_FILE = re.compile(r"-[rc] (.+?)(?: \(line \d+\))?$")
_COMES_FROM_LINE = re.compile(r"-[rc] (.+) \(line (\d+)\)$")
_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")


@dataclass(frozen=True)
class Origin:
    """Where an expected hash was written, and in which form."""

    written: str  # "# sha256: <base64>" or "--hash=sha256:<hex>"
    filename: str
    lineno: int


def peep_line(hex_digest: str) -> str:
    return f"# sha256: {hex_to_peep(hex_digest)}"


def pip_option(hex_digest: str) -> str:
    return f"--hash=sha256:{hex_digest}"


def explain_hash_errors(errors: Iterable[Any], origins: Mapping[str, Origin]) -> str:
    """peep-hook's account of pip's hash errors, to append to pip's message."""
    sections = []
    for error in errors:
        if hasattr(error, "gotten_hash"):
            sections.append(_missing(error))
        elif hasattr(error, "allowed") and hasattr(error, "gots"):
            sections.append(_mismatch(error, origins))
        elif type(error).__name__ == "HashUnpinned":
            sections.append(_unpinned(error))
    if not sections:
        return ""
    return "\n\n" + "\n\n".join(sections)


def _missing(error: Any) -> str:
    req = error.req
    got = error.gotten_hash
    pin = paste_requirement(req)
    target = _where_to_paste(req)
    return (
        f"peep-hook: {_name(req)} has no hash{_context(req)}. "
        f"Add this block to {target}:\n\n"
        f"{peep_line(got)}\n{pin}\n\n"
        f"or, in pip's form:\n\n{pin} {pip_option(got)}"
    )


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
            lines.append(f"    {label}  {pip_option(hex_digest)}")
        else:
            where = f"{os.path.basename(origin.filename)}, line {origin.lineno}"
            lines.append(f"    {label}  {origin.written}    ({where})")
    if got is not None:
        lines.append(f"    Got       {peep_line(got)}")
        lines.append(f"              {pip_option(got)}")
    filename = _archive_name(req)
    if filename:
        lines.append(f"    Archive   {filename} ({_kind(filename)})")
    lines.append(f"    Hint: {_mismatch_hint(got, filename, getattr(error, 'peep_hook_incomplete', False))}")
    return "\n".join(lines)


def _mismatch_hint(got: str | None, filename: str | None, incomplete: bool = False) -> str:
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
    return (
        f"the index served {kind}. If your hashes are for another kind of file "
        "(the sdist instead of a wheel, or a wheel for another platform) or for "
        "another version, add this file's hash as one more line in the block "
        "(any one hash may match), but only once you know the file is genuine. "
        "If nothing changed on your side, the archive may have been tampered "
        "with: do not install it."
    )


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
        "A malformed hash can never match an archive, so nothing is installed "
        "until these lines are fixed or removed."
    )
    return "\n".join(lines)


def _building(for_req: Any) -> str:
    if for_req is None:
        return "a source distribution"
    archive = _archive_name(for_req)
    return f"{_name(for_req)} ({archive})" if archive else _name(for_req)


def build_dependencies_failed(for_req: Any, pinned: Sequence[str], unpinned: Sequence[str]) -> str:
    where = _where_to_paste(for_req) if for_req is not None else "your requirements file"
    if unpinned:
        cause = (
            "needs build dependencies that no requirements or constraints file "
            f"pins with a hash: {', '.join(unpinned)}."
        )
    else:
        cause = (
            f"could not install its build dependencies ({', '.join(pinned)}) "
            "with verified hashes; their own dependencies need hashed pins too."
        )
    return (
        f"peep-hook: building {_building(for_req)} {cause} Nothing was installed. "
        f"Add the blocks shown above to {where}, which also installs them, or to "
        "a constraints file given with -c, which pins them without installing."
    )


def build_pin_conflicts(for_req: Any, conflicts: Sequence[tuple[str, str, str]]) -> str:
    lines = [f"peep-hook: building {_building(for_req)} needs build dependencies "
             "that the hashed pins in your files do not satisfy:"]
    lines += [f"    {text}, but {origins} pins {version}" for text, version, origins in conflicts]
    lines.append("Pin versions that satisfy them (with their hashes). Nothing was installed.")
    return "\n".join(lines)


def build_child_unchecked(for_req: Any, requirements: Sequence[str]) -> str:
    return (
        f"peep-hook: building {_building(for_req)} would install build dependencies "
        f"({', '.join(requirements)}) in a separate virtual environment "
        "(--use-feature venv-isolation), where peep-hook cannot check their "
        "hashes. Nothing was installed. Drop that option, or add "
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


def paste_requirement(req: Any) -> str:
    """The requirement line to paste under a ``# sha256:`` line for ``req``."""
    link = getattr(req, "original_link", None)
    if link is not None:  # a URL or file requirement: paste it as written
        return str(link.url)
    inner = getattr(req, "req", None)
    if inner is None:
        return str(req)
    if getattr(req, "is_pinned", False):
        return str(inner)
    version = _version_from_filename(_archive_name(req))
    extras = f"[{','.join(sorted(inner.extras))}]" if inner.extras else ""
    return f"{inner.name}{extras}=={version}" if version else str(inner)


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
    if filename.endswith(_SDIST_SUFFIXES):
        return "an sdist"
    return "a file"


def _version_from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else None
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            return stem.rsplit("-", 1)[1] if "-" in stem else None
    return None
