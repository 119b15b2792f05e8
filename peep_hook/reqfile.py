"""Reading peep hash comments out of the raw text of a requirements file.

pip strips comments before anything else sees a requirements file, so the hook
scans the raw text itself, under peep's block rules:

* a hash line is ``# sha256: <value>`` (``#``, whitespace, ``sha256:``,
  whitespace, the value, optionally a ``#`` comment);
* a requirement gets every hash line seen since the previous line that is
  neither blank nor a comment: hashes stack, and blank lines and other
  comments inside a block do not break it;
* any other line (requirement, option, continuation) ends the block; a
  ``\\``-continued requirement is known by its first physical line, which is
  also the line number pip gives it.

Line numbers are physical and 1-based and come from ``str.splitlines``, as in
pip's own reader, so they equal pip's ``ParsedLine.lineno``.

:func:`logical_lines` groups the other lines as pip's ``join_lines`` does, for
tools that lint or rewrite a file rather than install from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

from peep_hook.hashes import MalformedHash, peep_to_hex

# peep's own pattern (label, colon and spacing exactly as peep required).
_HASH_LINE_RE = re.compile(r"\s*#\s+sha256:\s+(?P<value>\S+)\s*(?:#.*)?$")
# Comments that look as if they were meant to be hash lines but are not:
# peep ignored them, which silently leaves a requirement without its hash.
_NEAR_MISS_RE = re.compile(r"\s*#\s*(?:sha-?256|sha384|sha512|md5)\s*[:=]", re.IGNORECASE)
_EDITABLE_RE = re.compile(r"\s*(?:-e\b|--editable\b)")
# pip's COMMENT_RE: a '#' at the start or after whitespace starts a comment
# (so a URL's '#egg=' fragment is not one). pip writes it r"(^|\s+)#.*$",
# which searches in quadratic time over a long run of whitespace; here a match
# may only begin where such a run begins, which finds the same matches.
COMMENT_RE = re.compile(r"(?:^|(?<!\s)\s+)#.*$")


class HashLine(NamedTuple):
    """One ``# sha256:`` line: where it is, what it says, and its hex value."""

    lineno: int
    value: str
    hex: Optional[str] = None
    error: Optional[str] = None


@dataclass
class FileHashes:
    """What one requirements file says about hashes, by physical line number."""

    #: first physical line of a requirement or option line -> its hash block
    blocks: dict[int, tuple[HashLine, ...]] = field(default_factory=dict)
    #: hash lines whose value is not a well-formed SHA-256
    malformed: list[HashLine] = field(default_factory=list)
    #: hash lines that apply to nothing (above an option line, or at the end)
    orphans: list[HashLine] = field(default_factory=list)
    #: comments that look like hash lines but are not (line number, text)
    near_misses: list[tuple[int, str]] = field(default_factory=list)

    def hashes_for(self, lineno: int) -> tuple[HashLine, ...]:
        return self.blocks.get(lineno, ())


def scan(text: str) -> FileHashes:
    """Scan the raw text of a requirements file for peep hash blocks."""
    result = FileHashes()
    blocks, orphans, malformed = result.blocks, result.orphans, result.malformed
    near_miss_match, make_line = _NEAR_MISS_RE.match, HashLine._make
    new_line = tuple.__new__  # what HashLine._make does, without the call
    pending: list[HashLine] = []
    continued = False  # the previous physical line ended with a backslash
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if not stripped:
            continued = False  # in pip a blank line ends a continuation
            continue
        if stripped[0] == "#":
            continued = False  # ...and so does a comment; it keeps the block
            if len(stripped) == 53 and stripped.startswith("# sha256: "):
                # The usual form, exactly: a well-formed value settles it.
                try:
                    pending.append(new_line(HashLine, (lineno, stripped[10:],
                                                       peep_to_hex(stripped[10:]), None)))
                    continue
                except MalformedHash:
                    pass  # read it the general way below
            value = _hash_value(stripped)
            if value is None:
                if near_miss_match(line):
                    result.near_misses.append((lineno, line.strip()))
                continue
            try:
                pending.append(make_line((lineno, value, peep_to_hex(value), None)))
            except MalformedHash as exc:
                bad = make_line((lineno, value, None, str(exc)))
                malformed.append(bad)
                pending.append(bad)
            continue
        if pending:
            if continued or (stripped[0] == "-" and not _EDITABLE_RE.match(line)):
                # A continuation line or an option line: the block belongs to
                # no requirement.
                orphans.extend(pending)
            else:
                blocks[lineno] = tuple(pending)
            pending = []
        continued = line.endswith("\\")
    orphans.extend(pending)
    return result


def _hash_value(comment: str) -> str | None:
    """The value of a hash line (``comment`` starts with '#'), or None.

    The same answer as ``_HASH_LINE_RE`` with string methods, which are several
    times faster on files of thousands of hashes; a value containing '#' (where
    the pattern backtracks) is left to the pattern itself.
    """
    body = comment[1:]
    if not body[:1].isspace():
        return None
    body = body.lstrip()
    if not body.startswith("sha256:") or not body[7:8].isspace():
        return None
    parts = body[7:].split(None, 1)
    if not parts:
        return None
    if "#" in parts[0]:
        match = _HASH_LINE_RE.match(comment)
        return match.group("value") if match else None
    if len(parts) == 2 and parts[1][0] != "#":
        return None
    return parts[0]


@dataclass(frozen=True)
class LogicalLine:
    """A requirement or option line: its physical lines, as pip joins them."""

    lineno: int  # the first physical line, which is pip's line number for it
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The text pip parses: lines joined, comment removed, stripped."""
        joined = "".join(
            line.strip("\\") if line.endswith("\\") else line for line in self.lines
        )
        return COMMENT_RE.sub("", joined).strip()

    @property
    def is_option(self) -> bool:
        """An option line (``-i``, ``-r``, ...) as pip reads it; ``-e`` is not one."""
        text = self.text
        return text.startswith("-") and _EDITABLE_RE.match(text) is None


def logical_lines(text: str) -> list[LogicalLine]:
    """The non-blank, non-comment lines of a file, continuations joined.

    A comment or blank line ends a continuation, as in pip, and is not part
    of the logical line (pip drops it anyway).
    """
    result: list[LogicalLine] = []
    group: list[str] = []
    start = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            _flush(result, start, group)
            continue
        if not group:
            start = lineno
        group.append(line)
        if not line.endswith("\\"):
            _flush(result, start, group)
    _flush(result, start, group)
    return result


def _flush(result: list[LogicalLine], start: int, group: list[str]) -> None:
    if group:
        result.append(LogicalLine(start, tuple(group)))
        group.clear()
