"""Checking requirements files for hash problems, without installing anything.

Made for CI: it finds what would make a hash-checked install fail or pass
unsafely (malformed values, requirements without a hash, hash lines that are
not hash lines or belong to nothing, duplicates, unpinned versions), following
nested ``-r``/``-c`` files as pip does. Requirements are read with regular
expressions, not pip or packaging, so it runs anywhere and never imports pip.
"""

from __future__ import annotations

import codecs
import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from peep_hook.reqfile import COMMENT_RE, FileHashes, LogicalLine, logical_lines, scan

# PEP 508 names; PEP 503 folds runs of -_. to one '-' and ignores case.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_NAMED_RE = re.compile(rf"(?P<name>{_NAME})\s*(?:\[[^\]]*\])?\s*(?P<rest>.*)")
_EGG_RE = re.compile(rf"[#&]egg=(?P<name>{_NAME})")
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|file:|[A-Za-z]:[\\/]")
_ARCHIVE_RE = re.compile(r"\.(?:whl|zip|tar|tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz)$", re.I)
# One == or === specifier, optionally in the old parentheses: pip's is_pinned,
# less the prefix match ``==1.*``, which pins no one version.
_PIN_RE = re.compile(r"\(?\s*(?:==\s*[A-Za-z0-9._+!-]+|===\s*[A-Za-z0-9._*+!-]+)\s*\)?")
_HASH_OPTION_RE = re.compile(r"(?<!\S)--hash(?:=|\s+)(?P<value>\S*)")
_INLINE_HASH_RE = re.compile(r"#\s*sha256\s*:", re.IGNORECASE)
_EDITABLE_RE = re.compile(r"(?:-e|--editable)(?:\s*=\s*|\s*)(?P<target>\S+)(?P<options>.*)")
_SCHEME_RE = re.compile(r"^(?:http|https|file):", re.I)  # pip's test for a remote include
# pip's strong hashes and their hex lengths.
_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

REQUIREMENTS, CONSTRAINTS = "requirements", "constraints"

Reader = Callable[[str], str]


@dataclass(frozen=True)
class Finding:
    filename: str
    lineno: int  # 0: about the file as a whole
    message: str

    def __str__(self) -> str:
        where = f"{self.filename}:{self.lineno}" if self.lineno else self.filename
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Requirement:
    """What the linter needs to know of one requirement line."""

    display: str  # the name as written, or the URL/path when no name is known
    key: str | None  # PEP 503-normalized name; None when unknown
    pinned: bool  # exactly one == or === specifier, not ==X.*
    direct: bool  # URL, path or editable: pinned by what it points at
    editable: bool
    has_marker: bool
    options: str  # the per-requirement options (``--hash`` ...)
    version: str | None = None  # the version pinned, if pinned


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    #: what was not checked, and why (not a problem in itself)
    notes: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    requirements: int = 0

    def summary(self) -> str:
        files = _plural(len(self.files), "file")
        reqs = _plural(self.requirements, "requirement")
        problems = _plural(len(self.findings), "problem") if self.findings else "no problems"
        return f"peep-hook check: {files}, {reqs}, {problems}"


def check(paths: Sequence[str], read: Reader | None = None) -> Report:
    """Lint requirements files and the local files they include."""
    checker = _Checker(read or read_requirements_file)
    for path in paths:
        checker.visit(path, REQUIREMENTS, None)
    return checker.finish()


def read_requirements_file(path: str) -> str:
    """Decode a requirements file as pip does for the usual cases: a BOM names
    the encoding, otherwise UTF-8. Raises OSError or ValueError."""
    with open(path, "rb") as f:
        data = f.read()
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None


# UTF-32 first: its little-endian BOM begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def parse_requirement(text: str) -> Requirement | None:
    """Read a requirement line as pip's ``break_args_options`` splits it; None
    if it is not one pip could read."""
    editable = _EDITABLE_RE.fullmatch(text)
    if editable is not None:
        target = editable.group("target")
        return _direct(target, target, editable.group("options"), editable=True)
    args, options = _break_args_options(text)
    if _is_direct(args):
        return _direct(args, args, options, editable=False)
    named = _NAMED_RE.fullmatch(args.strip())
    if named is None:
        return None
    name, rest = named.group("name"), named.group("rest")
    if rest.startswith("@"):  # PEP 508 direct reference: name @ url
        return Requirement(name, normalize(name), pinned=False, direct=True, editable=False,
                           has_marker=";" in rest, options=options)
    spec, semicolon, _ = rest.partition(";")
    pinned = _PIN_RE.fullmatch(spec.strip()) is not None
    return Requirement(name, normalize(name), pinned=pinned, direct=False, editable=False,
                       has_marker=bool(semicolon), options=options,
                       version=spec.strip(" ()=") if pinned else None)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- the walk over files ---------------------------------------------------------


class _Checker:
    def __init__(self, read: Reader) -> None:
        self.read = read
        self.report = Report()
        self._order: dict[str, int] = {}  # display name -> order first read
        self._done: set[tuple[str, str]] = set()
        self._stack: list[tuple[str, str]] = []  # (real path, display name)
        self._names: dict[str, list[tuple[Finding, bool]]] = {}  # key -> (where, marker)

    def finish(self) -> Report:
        order = self._order
        self.report.findings.sort(key=lambda f: (order.get(f.filename, -1), f.lineno))
        return self.report

    def visit(self, path: str, kind: str, origin: Finding | None) -> None:
        real = os.path.realpath(path)
        for depth, (seen, _) in enumerate(self._stack):
            if seen == real and origin is not None:  # pip refuses this too (or loops, if old)
                chain = [shown for _, shown in self._stack[depth:]] + [path]
                self._find(origin, f"include cycle ({' -> '.join(chain)}); not followed")
                return
        if (real, kind) in self._done:
            return
        self._done.add((real, kind))
        try:
            text = self.read(path)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            if origin is None:
                self._find(Finding(path, 0, ""), f"cannot read: {reason}")
            else:
                self._find(origin, f"cannot read {path}: {reason}")
            return
        self._order.setdefault(path, len(self._order))
        self.report.files.append(path)
        self._stack.append((real, path))
        try:
            self._check_file(path, text, kind)
        finally:
            self._stack.pop()

    def _check_file(self, path: str, text: str, kind: str) -> None:
        hashes = scan(text)
        self.report.findings.extend(_hash_line_problems(path, hashes))
        for logical in logical_lines(text):
            where = Finding(path, logical.lineno, "")
            if logical.text and not logical.is_option:
                self._requirement(where, logical, hashes, kind)
                continue
            # Only odd backslashes put a block here: scan attaches it to a line
            # that pip reads as an option, or as nothing at all.
            if hashes.hashes_for(logical.lineno):
                self._find(where, "the hashes above belong to no requirement")
            if logical.text:
                self._include(where, logical.text)

    def _include(self, where: Finding, line: str) -> None:
        found = _include_target(line)
        if found is None:
            return
        target, kind = found
        if _SCHEME_RE.search(target) or "${" in target:
            self._note(where, f"not following {target} (only local files are checked)")
            return
        self.visit(os.path.normpath(os.path.join(os.path.dirname(where.filename), target)),
                   kind, where)

    def _requirement(self, where: Finding, logical: LogicalLine, hashes: FileHashes,
                     kind: str) -> None:
        req = parse_requirement(logical.text)
        if req is None:
            self._find(where, f"cannot read a requirement from {logical.text!r}")
            return
        self.report.requirements += 1
        for value in _HASH_OPTION_RE.findall(req.options):
            problem = _hash_option_problem(value)
            if problem:
                self._find(where, problem)
        if kind == CONSTRAINTS:
            return  # constraints need no hash or pin of their own
        has_hash = bool(hashes.hashes_for(logical.lineno)) or "--hash" in req.options
        if req.editable:
            self._find(where, f"{req.display} is editable, which pip cannot hash-check")
        elif not has_hash:
            self._find(where, f"{req.display} has no hash{_inline_hash_hint(logical)}")
        if not (req.pinned or req.direct):
            self._find(where, f"{req.display} is not pinned with == or ===")
        self._duplicate(where, req)

    def _duplicate(self, where: Finding, req: Requirement) -> None:
        if req.key is None:
            return
        earlier = self._names.setdefault(req.key, [])
        # Both with markers: most likely one per environment, as in
        # 'x==1; python_version<"3"' and 'x==2; python_version>="3"'.
        clash = [e for e, marker in earlier if not (marker and req.has_marker)]
        if clash:
            first = clash[0]
            self._find(where, f"{req.display} is listed twice "
                              f"(also at {first.filename}:{first.lineno})")
        earlier.append((where, req.has_marker))

    def _find(self, where: Finding, message: str) -> None:
        self.report.findings.append(Finding(where.filename, where.lineno, message))

    def _note(self, where: Finding, message: str) -> None:
        self.report.notes.append(Finding(where.filename, where.lineno, message))


# -- small readers ---------------------------------------------------------------


def _hash_line_problems(path: str, hashes: FileHashes) -> Iterable[Finding]:
    for h in hashes.malformed:
        yield Finding(path, h.lineno, f"malformed hash: {h.error}")
    for lineno, text in hashes.near_misses:
        yield Finding(path, lineno, "looks like a hash line but is not one "
                                    f"(peep reads '# sha256: <value>'): {text}")
    for h in hashes.orphans:
        yield Finding(path, h.lineno, "hash belongs to no requirement "
                                      "(an option line or the end of the file follows it)")


def _break_args_options(line: str) -> tuple[str, str]:
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


def _direct(target: str, display: str, options: str, editable: bool) -> Requirement:
    egg = _EGG_RE.search(target)
    name = egg.group("name") if egg else None
    has_marker = re.search(r"\s;", target) is not None  # URLs need a space before ';'
    return Requirement(name or display.strip(), normalize(name) if name else None,
                       pinned=False, direct=True, editable=editable, has_marker=has_marker,
                       options=options)


def _include_target(line: str) -> tuple[str, str] | None:
    """(path, kind) of a ``-r``/``-c`` line, in any of optparse's spellings."""
    try:
        tokens = shlex.split(line)
    except ValueError:
        return None
    for index, token in enumerate(tokens):
        for short, long, kind in (("-r", "--requirement", REQUIREMENTS),
                                  ("-c", "--constraint", CONSTRAINTS)):
            if token in (short, long) and index + 1 < len(tokens):
                return tokens[index + 1], kind
            if token.startswith(long + "="):
                return token[len(long) + 1:], kind
            if token.startswith(short) and not token.startswith("--") and len(token) > 2:
                return token[2:], kind
    return None


def _hash_option_problem(value: str) -> str | None:
    algorithm, _, digest = value.partition(":")
    length = _HEX_LENGTHS.get(algorithm)
    if length is None:
        return f"malformed hash: --hash={value} does not name one of {', '.join(_HEX_LENGTHS)}"
    if not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", digest):
        return f"malformed hash: --hash={value} is not {length} hex digits"
    return None


def _inline_hash_hint(logical: LogicalLine) -> str:
    for line in logical.lines:
        comment = COMMENT_RE.search(line)
        if comment and _INLINE_HASH_RE.search(comment.group()):
            return " (a hash on the requirement's own line is a comment; put it on the line above)"
    return ""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
