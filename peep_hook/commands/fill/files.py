"""The requirements files ``peep-hook fill`` edits: their text and the lines
added to each, and the walk that finds them (the files given and the local
``-r``/``-c`` files they include). A file is written back byte for byte as it
was, but for the lines added: its line endings, BOM and encoding stay."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field

from peep_hook.commands.fill.pip_index import Download, File, error_text, redact
from peep_hook.commands.fill.report import Log, Where
from peep_hook.core.reqfile import (
    break_args_options,
    expand_env,
    include,
    logical_lines,
    read_file,
    scan,
)

_REMOTE_RE = re.compile(r"(?:https?|file):", re.IGNORECASE)


def is_remote(location: str) -> bool:
    """An http(s) or file URL, which pip fetches: not a file fill edits."""
    return _REMOTE_RE.match(location) is not None


class ReqFile:
    """A requirements file's text, and the lines to add to it."""

    def __init__(self, path: str, bom: bytes, encoding: str, text: str, exists: bool) -> None:
        self.path, self.bom, self.encoding, self.exists = path, bom, encoding, exists
        self.text = text
        self.lines = text.splitlines(keepends=True)  # as pip and reqfile.scan split them
        self.hashes = scan(text)
        self.inserts: dict[int, list[str]] = {}  # line number -> hash values above it
        self.removed: set[int] = set()  # stale hash lines to drop (--update)
        self.appended: list[list[str]] = []  # whole blocks, after the last line

    @classmethod
    def read(cls, path: str) -> ReqFile:
        bom, encoding, text = read_file(path)
        return cls(path, bom, encoding, text, True)

    @classmethod
    def new(cls, path: str) -> ReqFile:
        return cls(path, b"", "utf-8", "", False)

    @property
    def changed(self) -> bool:
        return bool(self.inserts or self.appended or self.removed)

    def _ending(self, line: str) -> str:
        for ending in ("\r\n", "\n", "\r"):
            if line.endswith(ending):
                return ending
        for other in self.lines:
            for ending in ("\r\n", "\n", "\r"):
                if other.endswith(ending):
                    return ending
        return "\n"

    def trailing_orphans(self) -> list[int]:
        """Hash lines after the last requirement: a block appended would adopt them."""
        last = max((ll.lineno + len(ll.lines) - 1 for ll in logical_lines(self.text)), default=0)
        return [h.lineno for h in self.hashes.orphans if h.lineno > last]

    def render(self) -> tuple[str, dict[int, int], list[int]]:
        """The new text, where each old line went, and each appended requirement's line."""
        out: list[str] = []
        moved: dict[int, int] = {}
        for lineno, line in enumerate(self.lines, start=1):
            values = self.inserts.get(lineno, ())
            if values:
                indent = line[: len(line) - len(line.lstrip(" \t"))]
                out.extend(f"{indent}# sha256: {v}{self._ending(line)}" for v in values)
            moved[lineno] = len(out) + 1
            if lineno not in self.removed:
                out.append(line)
        placed = []
        if self.appended:
            ending = self._ending(out[-1] if out else "")
            if out and out[-1] == out[-1].rstrip("\r\n"):
                out[-1] += ending  # the last line had no line break
            for block in self.appended:
                if out and out[-1].strip():
                    out.append(ending)  # a blank line between blocks, for the reader
                out.extend(line + ending for line in block)
                placed.append(len(out))
        return "".join(out), moved, placed

    def write(self) -> None:
        data = self.bom + self.render()[0].encode(self.encoding)
        target = os.path.realpath(self.path)
        if not self.exists:
            with open(target, "xb") as f:
                f.write(data)
            return
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".peep-hook-fill-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            shutil.copymode(target, temporary)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise


@dataclass
class Entry:
    """A requirement or constraint line, and what fill learnt of it."""

    file: ReqFile
    lineno: int
    text: str
    kind: str
    chosen: File | None = None  # what pip would install here (for build dependencies)
    chosen_download: Download | None = None
    allowed: set[str] = field(default_factory=set)  # hex hashes it has, or gets

    @property
    def where(self) -> tuple[ReqFile, int]:
        return self.file, self.lineno

    @property
    def label(self) -> str:
        """The requirement without its options or marker, any password redacted."""
        return redact(break_args_options(self.text)[0].split(";")[0].strip())


class Walk:
    """The files read, each once, and their requirement and constraint lines."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.files: dict[str, ReqFile] = {}  # by real path
        self.entries: list[Entry] = []

    def visit(self, path: str, kind: str, origin: Where | None) -> None:
        real = os.path.realpath(path)
        if real in self.files:
            return
        try:
            f = ReqFile.read(path)
        except (OSError, ValueError) as exc:
            if origin is None:
                self.log.fail(path, f"cannot read: {error_text(exc)}")
            else:
                self.log.fail(origin, f"cannot read {path}: {error_text(exc)}")
            return
        self.files[real] = f
        for logical in logical_lines(f.text):
            text = expand_env(logical.text)
            if not text:
                continue
            if logical.is_option:
                self._option(f, logical.lineno, text)
            else:
                self.entries.append(Entry(f, logical.lineno, text, kind))

    def _option(self, f: ReqFile, lineno: int, text: str) -> None:
        """Follow -r and -c to the local files to edit; pip reads every option."""
        try:
            found = include(text)
        except ValueError as exc:
            self.log.fail((f, lineno), f"cannot read option line: {exc}")
            return
        if found is not None:
            kind, target = found
            self._include(f, lineno, expand_env(target), kind)

    def _include(self, f: ReqFile, lineno: int, target: str, kind: str) -> None:
        if is_remote(target):
            self.log.note((f, lineno), f"not following {redact(target)}: fill edits local "
                          "files only")
            return
        path = os.path.normpath(os.path.join(os.path.dirname(f.path), target))
        self.visit(path, kind, (f, lineno))
