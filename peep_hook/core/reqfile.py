"""Requirements files, read in one place: peep hash comments, logical lines,
options, pip's ``--hash``, decoding.

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
tools that lint or rewrite a file rather than install from it. The rest reads
a file as the pip-free commands (``check``, ``fill``, ``verify``, ``port``)
need it, the way pip does: :func:`read_file` decodes it, :func:`include`
reads ``-r``/``-c`` option lines, :func:`parse_requirement` a requirement line
and :func:`hash_options` its ``--hash`` options.
"""

from __future__ import annotations

import binascii
import codecs
import contextlib
import functools
import gc
import os
import re
import shlex
from dataclasses import dataclass
from typing import Iterator, NamedTuple, Optional, Sequence, cast

from peep_hook.core.hashed_pins import canonical_name
from peep_hook.core.hashes import STRICT_BASE64, MalformedHash, peep_to_hex

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


class FileHashes:
    """What one requirements file says about hashes, by physical line number.

    Built by :func:`scan`, which keeps the hash lines as columns; the
    :class:`HashLine` tuples are made when a block is first asked for.
    """

    def __init__(self, columns: tuple[list[int], list[str], list[Optional[str]],
                                      list[Optional[str]]],
                 spans: dict[int, tuple[int, int]],
                 orphan_spans: Sequence[tuple[int, int]],
                 near_misses: list[tuple[int, str]]) -> None:
        self._columns = columns
        self._spans = spans
        self._blocks: Optional[dict[int, tuple[HashLine, ...]]] = None
        #: hash lines that apply to nothing (above an option line, or at the end)
        self.orphans: list[HashLine] = [h for first, stop in orphan_spans
                                        for h in self._lines(first, stop)]
        #: hash lines whose value is not a well-formed SHA-256
        self.malformed: list[HashLine] = (
            [] if None not in columns[2] else
            [h for h in self._lines(0, len(columns[2])) if h.hex is None])
        #: comments that look like hash lines but are not (line number, text)
        self.near_misses: list[tuple[int, str]] = near_misses

    @property
    def blocks(self) -> dict[int, tuple[HashLine, ...]]:
        """First physical line of each requirement line -> its hash block."""
        if self._blocks is None:
            with _no_cyclic_gc():
                every = self._lines(0, len(self._columns[0]))
                self._blocks = {lineno: every[first:stop]
                                for lineno, (first, stop) in self._spans.items()}
        return self._blocks

    def _fields(self) -> tuple:
        return self.blocks, self.malformed, self.orphans, self.near_misses

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileHashes):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaced

    def __repr__(self) -> str:
        return ("FileHashes(blocks={!r}, malformed={!r}, orphans={!r}, near_misses={!r})"
                .format(*self._fields()))

    def hashes_for(self, lineno: int) -> tuple[HashLine, ...]:
        """The block of one requirement line. Made afresh for each call until
        :attr:`blocks` is read: a caller that reads each block once (the
        hook) keeps no more objects alive than it uses."""
        if self._blocks is not None:
            return self._blocks.get(lineno, ())
        span = self._spans.get(lineno)
        return self._lines(*span) if span else ()

    def _lines(self, first: int, stop: int) -> tuple[HashLine, ...]:
        linenos, values, hexes, errors = self._columns
        if first == 0 and stop == len(linenos):
            return tuple(map(_new_hash_line, zip(linenos, values, hexes, errors)))
        return tuple(map(_new_hash_line, zip(linenos[first:stop], values[first:stop],
                                             hexes[first:stop], errors[first:stop])))


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector off while thousands of tuples of
    numbers and strings are made: they cannot form cycles, and the many
    collections their number would set off add about a tenth to scanning and
    reading a file of 10,000 requirements (counted with callgrind)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# HashLine._make without its Python-level call: scan makes thousands.
_new_hash_line = functools.partial(tuple.__new__, HashLine)


def scan(text: str) -> FileHashes:
    """Scan the raw text of a requirements file for peep hash blocks.

    One pass finds the hash lines and the blocks they form; the values are
    then checked and converted to hex all at once, which on files of
    thousands of hashes costs a fraction of converting them one by one.
    """
    with _no_cyclic_gc():
        return _scan(text.splitlines())


def _scan(lines: list[str]) -> FileHashes:
    near_misses: list[tuple[int, str]] = []
    linenos, values, spans, orphans = _hash_lines(lines, near_misses, usual_form_first=True)
    all_hexes = _all_to_hex(values)
    if all_hexes is None:  # a value is malformed: read the file the general way
        near_misses.clear()
        linenos, values, spans, orphans = _hash_lines(lines, near_misses,
                                                      usual_form_first=False)
        hexes, errors = _each_to_hex(values)
    else:
        hexes, errors = cast("list[Optional[str]]", all_hexes), [None] * len(values)
    return FileHashes((linenos, values, hexes, errors), spans, orphans, near_misses)


def _hash_lines(lines: list[str], near_misses: list[tuple[int, str]], *,
                usual_form_first: bool
                ) -> tuple[list[int], list[str], dict[int, tuple[int, int]], list[tuple[int, int]]]:
    """The line numbers and values of the hash lines; the (first, stop)
    slices of them that form each requirement's block, by the requirement's
    line number; and the slices that belong to no requirement.

    ``usual_form_first`` takes a line of exactly ``# sha256: `` and 43
    characters as a hash line without looking closer: right whenever the
    value is well formed, which the caller then checks.
    """
    near_miss_match = _NEAR_MISS_RE.match
    linenos: list[int] = []
    values: list[str] = []
    spans: dict[int, tuple[int, int]] = {}
    orphans: list[tuple[int, int]] = []
    add_lineno, add_value = linenos.append, values.append
    usual = "# sha256: " if usual_form_first else None
    first = 0  # where in values the pending block starts
    continued = False  # the previous physical line ended with a backslash
    for lineno, line in enumerate(lines, start=1):
        if line[:10] == usual and len(line) == 53:
            add_lineno(lineno)
            add_value(line[10:])
            continued = False
            continue
        stripped = line.lstrip()
        if not stripped:
            continued = False  # in pip a blank line ends a continuation
            continue
        if stripped[0] == "#":
            continued = False  # ...and so does a comment; it keeps the block
            value = _hash_value(stripped)
            if value is not None:
                add_lineno(lineno)
                add_value(value)
            elif near_miss_match(line):
                near_misses.append((lineno, line.strip()))
            continue
        if first < len(values):
            if continued or (stripped[0] == "-" and not _EDITABLE_RE.match(line)):
                # A continuation line or an option line: the block belongs
                # to no requirement.
                orphans.append((first, len(values)))
            else:
                spans[lineno] = (first, len(values))
            first = len(values)
        continued = line.endswith("\\")
    if first < len(values):
        orphans.append((first, len(values)))
    return linenos, values, spans, orphans


_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# The 16 characters whose 6 bits end in two zero bits: the last of 43.
_LAST = frozenset("AEIMQUYcgkosw048")


def _all_to_hex(values: list[str], strict: bool = STRICT_BASE64) -> Optional[list[str]]:
    """The hex digests of well-formed peep values, or None if one is not.

    The checks of :func:`peep_to_hex` (43 characters of the URL-safe
    alphabet, the last leaving the unused bits zero), made on all values at
    once; then one call decodes them all: a value and an "A" are 44 base64
    characters, 33 bytes whose last is zero. Their hex, a space after every
    33 bytes, splits into the digests once each "00 " becomes " ": a space
    only ever follows that zero byte.
    """
    if not values:
        return []
    if set(map(len, values)) != {43}:
        return None
    joined = "A".join(values) + "A"
    try:
        raw = joined.encode("ascii")
    except UnicodeEncodeError:
        return None
    if not set(joined[42::44]) <= _LAST:
        return None
    try:
        if strict:  # the decoder rejects any character outside the alphabet
            if b"+" in raw or b"/" in raw:
                return None
            decoded = binascii.a2b_base64(raw.translate(_TO_STANDARD),
                                          strict_mode=True)  # type: ignore[call-arg]
        elif raw.translate(None, _ALPHABET):
            return None
        else:
            decoded = binascii.a2b_base64(raw.translate(_TO_STANDARD))
    except binascii.Error:
        return None
    return (decoded.hex(" ", 33) + " ").replace("00 ", " ").split()


def _each_to_hex(values: list[str]) -> tuple[list[Optional[str]], list[Optional[str]]]:
    """(hex digest, None) or (None, why it is malformed) for each value."""
    hexes: list[Optional[str]] = []
    errors: list[Optional[str]] = []
    for value in values:
        try:
            hexes.append(peep_to_hex(value))
            errors.append(None)
        except MalformedHash as exc:
            hexes.append(None)
            errors.append(str(exc))
    return hexes, errors


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


# -- a file's bytes --------------------------------------------------------------


class Decoded(NamedTuple):
    """A file's text, and how it was encoded (to write it back the same way)."""

    bom: bytes
    encoding: str
    text: str


# UTF-32 first: its little-endian BOM begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes) -> Decoded:
    """Decode a requirements file as pip does for the usual cases: a BOM names
    the encoding, otherwise UTF-8. Raises ValueError."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(bom, encoding, data[len(bom):].decode(encoding))
    try:
        return Decoded(b"", "utf-8", data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None


def read_file(path: str) -> Decoded:
    """:func:`decode` a file's bytes. Raises OSError or ValueError."""
    with open(path, "rb") as f:
        return decode(f.read())


def read_requirements_file(path: str) -> str:
    """The text of a requirements file. Raises OSError or ValueError."""
    return read_file(path).text


# -- option lines ------------------------------------------------------------------

REQUIREMENTS, CONSTRAINTS = "requirements", "constraints"
_INCLUDES = {"-r": REQUIREMENTS, "--requirement": REQUIREMENTS,
             "-c": CONSTRAINTS, "--constraint": CONSTRAINTS}
_ENV_VAR_RE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")  # what pip expands in files


def expand_env(text: str) -> str:
    """``${NAME}`` replaced by the environment variable's value, as pip does."""
    return _ENV_VAR_RE.sub(lambda m: os.environ.get(m["name"], m.group()), text)


def include(line: str) -> Optional[tuple[str, str]]:
    """The file an option line includes, as (REQUIREMENTS or CONSTRAINTS,
    target), or None. Options in any of optparse's spellings; of several, pip
    follows the first ``-r``, else the first ``-c``. Raises ValueError when the
    line cannot be split as a shell would."""
    found = _includes(shlex.split(line))
    for kind in (REQUIREMENTS, CONSTRAINTS):
        for wanted, target in found:
            if wanted == kind:
                return kind, target
    return None


def _includes(tokens: list[str]) -> list[tuple[str, str]]:
    found = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        name, equals, value = token.partition("=") if token.startswith("--") else (
            token[:2], "=" if token[2:] else "", token[2:])
        kind = _INCLUDES.get(name)
        if kind is None:
            continue
        if not equals:
            if index >= len(tokens):
                continue
            value = tokens[index]
            index += 1
        found.append((kind, value))
    return found


# -- requirement lines -------------------------------------------------------------

# PEP 508 names.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_NAMED_RE = re.compile(rf"(?P<name>{_NAME})\s*(?:\[[^\]]*\])?\s*(?P<rest>.*)")
_EGG_RE = re.compile(rf"[#&]egg=(?P<name>{_NAME})")
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|file:|[A-Za-z]:[\\/]")
_ARCHIVE_RE = re.compile(r"\.(?:whl|zip|tar|tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz)$", re.I)
# One == or === specifier, optionally in the old parentheses: pip's is_pinned,
# less the prefix match ``==1.*``, which pins no one version.
_PIN_RE = re.compile(r"\(?\s*(?:==\s*[A-Za-z0-9._+!-]+|===\s*[A-Za-z0-9._*+!-]+)\s*\)?")
_EDITABLE_LINE_RE = re.compile(
    r"(?:-e|--editable)(?:\s*=\s*|\s*)(?P<target>\S+)(?P<options>.*)")


@dataclass(frozen=True)
class Requirement:
    """What a requirement line says, read with regular expressions, not pip."""

    display: str  # the name as written, or the URL/path when no name is known
    key: Optional[str]  # PEP 503-normalized name; None when unknown
    pinned: bool  # exactly one == or === specifier, not ==X.*
    direct: bool  # URL, path or editable: pinned by what it points at
    editable: bool
    has_marker: bool
    options: str  # the per-requirement options (``--hash`` ...)
    version: Optional[str] = None  # the version pinned, if pinned


def parse_requirement(text: str) -> Optional[Requirement]:
    """Read a requirement line as pip's ``break_args_options`` splits it; None
    if it is not one pip could read."""
    editable = _EDITABLE_LINE_RE.fullmatch(text)
    if editable is not None:
        target = editable.group("target")
        return _direct(target, editable.group("options"), editable=True)
    args, options = break_args_options(text)
    if _is_direct(args):
        return _direct(args, options, editable=False)
    named = _NAMED_RE.fullmatch(args.strip())
    if named is None:
        return None
    name, rest = named.group("name"), named.group("rest")
    if rest.startswith("@"):  # PEP 508 direct reference: name @ url
        return Requirement(name, canonical_name(name), pinned=False, direct=True,
                           editable=False, has_marker=";" in rest, options=options)
    spec, semicolon, _ = rest.partition(";")
    pinned = _PIN_RE.fullmatch(spec.strip()) is not None
    return Requirement(name, canonical_name(name), pinned=pinned, direct=False,
                       editable=False, has_marker=bool(semicolon), options=options,
                       version=spec.strip(" ()=") if pinned else None)


def break_args_options(line: str) -> tuple[str, str]:
    """pip's split: the arguments end at the first space-separated token that
    starts with '-' (markers may hold spaces, so pip cannot shlex them)."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]), " ".join(tokens[index:])
    return line, ""


def _is_direct(args: str) -> bool:
    first = args.strip().split(";")[0].split()
    target = first[0] if first else ""
    return bool(
        _URL_RE.match(target)
        or target.startswith((".", "/", "~", "\\"))
        or "/" in target
        or "\\" in target
        or _ARCHIVE_RE.search(target.split("#")[0])
    )


def _direct(target: str, options: str, editable: bool) -> Requirement:
    egg = _EGG_RE.search(target)
    name = egg.group("name") if egg else None
    has_marker = re.search(r"\s;", target) is not None  # URLs need a space before ';'
    return Requirement(name or target.strip(), canonical_name(name) if name else None,
                       pinned=False, direct=True, editable=editable, has_marker=has_marker,
                       options=options)


# -- pip's --hash options ----------------------------------------------------------

# A --hash option as pip's option parser takes it: its value after '=' or
# whitespace, taken whole so a bad digest is reported, not half-read.
_HASH_OPTION_RE = re.compile(r"(?<!\S)--hash(?:=|\s+)(?P<value>\S*)")
# pip's strong hashes and their hex lengths; pip spells them in lower case only.
_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


class HashOption(NamedTuple):
    """One ``--hash`` option: where it is in the text searched, and its value."""

    start: int
    end: int
    value: str  # ``algorithm:hexdigest``, as written

    @property
    def algorithm(self) -> str:
        return self.value.partition(":")[0]

    @property
    def digest(self) -> str:
        return self.value.partition(":")[2]

    @property
    def sha256(self) -> Optional[str]:
        """The digest in lower case, if this is a well-formed sha256 option."""
        if self.algorithm == "sha256" and self.problem is None:
            return self.digest.lower()
        return None

    @property
    def problem(self) -> Optional[str]:
        """Why pip would refuse the value, or None."""
        length = _HEX_LENGTHS.get(self.algorithm)
        if length is None:
            return (f"malformed hash: --hash={self.value} does not name one of "
                    f"{', '.join(_HEX_LENGTHS)}")
        if not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", self.digest):
            return f"malformed hash: --hash={self.value} is not {length} hex digits"
        return None


def hash_options(text: str) -> list[HashOption]:
    """The ``--hash`` options in ``text`` (a requirement's options, or a line)."""
    return [HashOption(m.start(), m.end(), m["value"]) for m in _HASH_OPTION_RE.finditer(text)]


def sha256_options(text: str) -> list[str]:
    """The digests, in lower case, of the well-formed sha256 ``--hash`` options."""
    return [option.sha256 for option in hash_options(text) if option.sha256 is not None]
