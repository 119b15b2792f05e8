"""Checking requirements files for hash problems, without installing anything.

Made for CI: it finds what would make a hash-checked install fail or pass
unsafely (malformed values, requirements without a hash, hash lines that are
not hash lines or belong to nothing, duplicates, unpinned versions), following
nested ``-r``/``-c`` files as pip does. Requirements are read with regular
expressions, not pip or packaging, so it runs anywhere and never imports pip.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from peep_hook.core.reqfile import (
    COMMENT_RE,
    CONSTRAINTS,
    REQUIREMENTS,
    FileHashes,
    LogicalLine,
    Requirement,
    hash_options,
    include,
    logical_lines,
    parse_requirement,
    read_requirements_file,
    scan,
)

_INLINE_HASH_RE = re.compile(r"#\s*sha256\s*:", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^(?:http|https|file):", re.I)  # pip's test for a remote include

__all__ = ["Finding", "Report", "Checker", "check", "parse_requirement",
           "read_requirements_file", "REQUIREMENTS", "CONSTRAINTS"]

Reader = Callable[[str], str]


@dataclass(frozen=True)
class Finding:
    filename: str
    lineno: int  # 0: about the file as a whole
    message: str

    def __str__(self) -> str:
        where = f"{self.filename}:{self.lineno}" if self.lineno else self.filename
        return f"{where}: {self.message}"


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
    checker = Checker(read or read_requirements_file)
    for path in paths:
        checker.visit(path, REQUIREMENTS, None)
    return checker.finish()


# -- the walk over files ---------------------------------------------------------


class Checker:
    """The walk over files and their local -r/-c includes, each read once;
    :meth:`requirement` judges each requirement line (``verify`` reads them
    its own way)."""

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
                self.find(origin, f"include cycle ({' -> '.join(chain)}); not followed")
                return
        if (real, kind) in self._done:
            return
        self._done.add((real, kind))
        try:
            text = self.read(path)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            if origin is None:
                self.find(Finding(path, 0, ""), f"cannot read: {reason}")
            else:
                self.find(origin, f"cannot read {path}: {reason}")
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
                self.requirement(where, logical, hashes, kind)
                continue
            # Only odd backslashes put a block here: scan attaches it to a line
            # that pip reads as an option, or as nothing at all.
            if hashes.hashes_for(logical.lineno):
                self.find(where, "the hashes above belong to no requirement")
            if logical.text:
                self._include(where, logical.text)

    def _include(self, where: Finding, line: str) -> None:
        try:
            found = include(line)
        except ValueError:
            return
        if found is None:
            return
        kind, target = found
        if _SCHEME_RE.search(target) or "${" in target:
            self._note(where, f"not following {target} (only local files are checked)")
            return
        self.visit(os.path.normpath(os.path.join(os.path.dirname(where.filename), target)),
                   kind, where)

    def requirement(self, where: Finding, logical: LogicalLine, hashes: FileHashes,
                     kind: str) -> None:
        req = parse_requirement(logical.text)
        if req is None:
            self.find(where, f"cannot read a requirement from {logical.text!r}")
            return
        self.report.requirements += 1
        for option in hash_options(req.options):
            if option.problem:
                self.find(where, option.problem)
        if kind == CONSTRAINTS:
            return  # constraints need no hash or pin of their own
        has_hash = bool(hashes.hashes_for(logical.lineno)) or "--hash" in req.options
        if req.editable:
            self.find(where, f"{req.display} is editable, which pip cannot hash-check")
        elif not has_hash:
            self.find(where, f"{req.display} has no hash{_inline_hash_hint(logical)}")
        if not (req.pinned or req.direct):
            self.find(where, f"{req.display} is not pinned with == or ===")
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
            self.find(where, f"{req.display} is listed twice "
                              f"(also at {first.filename}:{first.lineno})")
        earlier.append((where, req.has_marker))

    def find(self, where: Finding, message: str) -> None:
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


def _inline_hash_hint(logical: LogicalLine) -> str:
    for line in logical.lines:
        comment = COMMENT_RE.search(line)
        if comment and _INLINE_HASH_RE.search(comment.group()):
            return " (a hash on the requirement's own line is a comment; put it on the line above)"
    return ""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
