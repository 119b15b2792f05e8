"""Converting requirements files between peep's hash comments and pip's options.

:func:`to_pip` moves each peep block (``# sha256: <base64>`` lines above a
requirement) into ``--hash=sha256:<hex>`` options on the requirement, laid out
as pip-compile does::

    Flask==0.9 \\
        --hash=sha256:2fd5d4ffe81f762dd2a3e5847...

:func:`to_peep` does the reverse. Everything else (comments, blank lines,
option lines, markers, URL requirements, other options) is kept as written.
Text in, text out: nothing here reads files or imports pip. Output lines end
with ``\\n`` whatever the input used, as pip reads both alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from peep_hook.core.hashes import MalformedHash, hex_to_peep
from peep_hook.core.reqfile import (
    COMMENT_RE,
    FileHashes,
    HashLine,
    LogicalLine,
    hash_options,
    logical_lines,
    scan,
    sha256_options,
)

_INDENT = "    "


class PortError(ValueError):
    """The file cannot be converted faithfully; ``problems`` says where and why."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"line {n}: {msg}" for n, msg in problems))
        self.problems = problems


@dataclass
class Ported:
    text: str
    #: things kept as written that the user should look at (line, message)
    warnings: list[tuple[int, str]] = field(default_factory=list)


def to_pip(text: str) -> Ported:
    """peep hash comments -> ``--hash=sha256:<hex>`` options."""
    hashes = scan(text)
    if hashes.malformed:
        raise PortError(_malformed(hashes))
    # Only blocks on requirements move; a block that pip would read as being
    # on an option line or on nothing (odd backslashes) stays a comment.
    targets = {ll.lineno: ll for ll in logical_lines(text)
               if ll.lineno in hashes.blocks and ll.text and not ll.is_option}
    moved = {h.lineno for n in targets for h in hashes.blocks[n]}
    physical = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(physical):
        logical = targets.get(index + 1)
        if logical is not None:
            new = _new_hexes(hashes, logical)
            out.extend(_append_hashes(logical.lines, new) if new else logical.lines)
            index += len(logical.lines)
            continue
        if index + 1 not in moved:
            out.append(physical[index])
        index += 1
    stranded = [h for n, block in hashes.blocks.items() if n not in targets for h in block]
    return Ported(_join(out), _warnings(hashes, stranded))


def to_peep(text: str) -> Ported:
    """``--hash=sha256:<hex>`` options -> peep hash comments above the requirement."""
    hashes = scan(text)
    # first line of a requirement -> (its replacement lines, physical lines replaced)
    replaced: dict[int, tuple[list[str], int]] = {}
    problems = _malformed(hashes)
    for logical in logical_lines(text):
        if logical.is_option:
            continue
        lines, peep_values = _take_sha256_options(logical, problems)
        if peep_values:
            known = {h.value for h in hashes.hashes_for(logical.lineno)}
            peep_lines = [f"# sha256: {v}" for v in _unique(peep_values) if v not in known]
            replaced[logical.lineno] = (peep_lines + lines, len(logical.lines))
    if problems:
        raise PortError(sorted(problems))
    physical = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(physical):
        if index + 1 in replaced:
            lines, count = replaced[index + 1]
            out.extend(lines)
            index += count
            continue
        out.append(physical[index])
        index += 1
    return Ported(_join(out), _warnings(hashes))


def _malformed(hashes: FileHashes) -> list[tuple[int, str]]:
    return [(h.lineno, h.error or "malformed hash") for h in hashes.malformed]


def _warnings(hashes: FileHashes, stranded: Sequence[HashLine] = ()) -> list[tuple[int, str]]:
    found = [(h.lineno, "hash line belongs to no requirement; kept as a comment")
             for h in [*hashes.orphans, *stranded]]
    found += [(n, f"looks like a hash line but is not one; kept as a comment: {line}")
              for n, line in hashes.near_misses]
    return sorted(found)


# -- peep -> pip ---------------------------------------------------------------


def _new_hexes(hashes: FileHashes, logical: LogicalLine) -> list[str]:
    """The block's digests that the requirement does not already carry."""
    present = set(sha256_options(logical.text))
    new = [h.hex for h in hashes.hashes_for(logical.lineno) if h.hex is not None]
    return [hex_digest for hex_digest in _unique(new) if hex_digest not in present]


def _append_hashes(lines: tuple[str, ...], hexes: list[str]) -> list[str]:
    """Add ``--hash`` continuation lines where pip's text of the requirement ends.

    That is before a trailing comment, if any: pip strips from the comment on,
    across joined lines, so anything appended after it would be lost.
    """
    at, head, tail = _comment_split(lines)
    options = [f"{_INDENT}--hash=sha256:{h} \\" for h in hexes]
    options[-1] = options[-1][: -len(" \\")] + tail
    return [*lines[:at], head.rstrip() + " \\", *options, *lines[at + 1:]]


def _comment_split(lines: tuple[str, ...]) -> tuple[int, str, str]:
    """(index of the line where the live text ends, its live part, the rest)."""
    for at, line in enumerate(lines):
        match = COMMENT_RE.search(line)
        if match is not None:
            return at, line[: match.start()], line[match.start():]
    # No comment: a last line ending in '\' continues onto a comment or blank
    # line, which adds nothing, so the backslash can go.
    return len(lines) - 1, lines[-1].rstrip("\\"), ""


# -- pip -> peep ---------------------------------------------------------------


def _take_sha256_options(
    logical: LogicalLine, problems: list[tuple[int, str]]
) -> tuple[list[str], list[str]]:
    """The requirement's lines without sha256 ``--hash`` options, and their
    values in peep's form. Options inside a comment are left alone: pip ignores
    them too."""
    at, _, _ = _comment_split(logical.lines)
    kept: list[str] = []
    values: list[str] = []
    for offset, line in enumerate(logical.lines):
        if offset > at:
            kept.append(line)  # after the comment: pip never reads it
            continue
        live, rest = _live_and_rest(line)
        digests: list[str] = []
        live = _remove_sha256_options(live, digests)
        for digest in digests:
            try:
                values.append(hex_to_peep(digest.lower()))
            except MalformedHash as exc:
                problems.append((logical.lineno + offset, str(exc)))
        if offset and digests and not live.strip():
            # The line carried only hashes: drop it, but keep its comment on
            # the line before (whose backslash only led here).
            if rest.strip("\\"):
                kept[-1] = kept[-1].rstrip("\\").rstrip() + rest
            continue
        kept.append(live + rest)
    return _end_like(kept, logical.lines[-1]), values


def _live_and_rest(line: str) -> tuple[str, str]:
    match = COMMENT_RE.search(line)
    if match is not None:
        return line[: match.start()], line[match.start():]
    if line.endswith("\\"):
        stripped = line.rstrip("\\")
        return stripped, line[len(stripped):]
    return line, ""


def _remove_sha256_options(live: str, digests: list[str]) -> str:
    """``live`` without its sha256 ``--hash`` options and the blanks after
    each; their digests, as written (a bad one is reported, not half-converted),
    go into ``digests``."""
    pieces: list[str] = []
    kept_from = 0
    for option in hash_options(live):
        if option.value.startswith("sha256:"):
            digests.append(option.digest)
            pieces.append(live[kept_from:option.start])
            kept_from = len(live) - len(live[option.end:].lstrip(" \t"))
    removed = "".join(pieces) + live[kept_from:]
    # Spaces that separated the text from a continuation backslash stay.
    return removed if live[-1:].isspace() else removed.rstrip()


def _end_like(lines: list[str], original_last: str) -> list[str]:
    """Drop a backslash left dangling by removing the lines after it."""
    if lines and lines[-1].endswith("\\") and not original_last.endswith("\\"):
        lines[-1] = lines[-1].rstrip("\\").rstrip()
    return lines


# -- shared ----------------------------------------------------------------------


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
