"""What ``peep-hook fill`` says: problems and notes, the hashes it added, and a
summary. Messages are kept until the end and printed with the line numbers of
the files as written (or, with ``--dry-run``, as they would be)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Union

from peep_hook.core.hashes import hex_to_peep

if TYPE_CHECKING:
    from peep_hook.commands.fill.files import ReqFile

Where = Union["tuple[ReqFile, int]", str]  # a line of a file, or a plain label


@dataclass
class Added:
    """Hash lines fill adds above one requirement, or a block it appends."""

    file: ReqFile
    lineno: int  # old line number; 0 for an appended block
    block: int  # index into file.appended; -1 for an insertion
    display: str
    hashes: list[tuple[str, str, str]]  # (hex, file name, how it was hashed)
    stale: list[str] = field(default_factory=list)  # peep values removed (--update)


class Log:
    """Problems, notes and additions, in the order they were found."""

    def __init__(self) -> None:
        self.messages: list[tuple[Where, str]] = []
        self.failures = 0
        self.added: list[Added] = []

    def fail(self, where: Where, message: str) -> None:
        self.failures += 1
        self.messages.append((where, message))

    def note(self, where: Where, message: str) -> None:
        self.messages.append((where, f"note: {message}"))

    def print(self, out: IO[str], err: IO[str], changed: list[ReqFile], dry_run: bool) -> None:
        """Messages to ``err``; the hashes added and the summary to ``out``."""
        layout = {id(f): f.render() for f in changed}
        for where, message in self.messages:
            if isinstance(where, tuple):
                f, lineno = where
                lineno = layout[id(f)][1].get(lineno, lineno) if id(f) in layout else lineno
                where = f"{f.path}:{lineno}"
            print(f"{where}: {message}", file=err)
        for added in self.added:
            _, moved, placed = layout[id(added.file)]
            line = moved[added.lineno] if added.block < 0 else placed[added.block]
            _print_added(added, f"{added.file.path}:{line}", out)
        print(self._summary(len(changed), dry_run), file=out)

    def _summary(self, changed: int, dry_run: bool) -> str:
        count = sum(len(a.hashes) for a in self.added)
        summary = (f"peep-hook fill: {_plural(count, 'hash')} added for "
                   f"{_plural(len(self.added), 'requirement')} in {_plural(changed, 'file')}")
        stale = sum(len(a.stale) for a in self.added)
        if stale:
            summary += f", {_plural(stale, 'stale hash')} removed"
        if dry_run:
            summary += " (dry run: nothing written)"
        if self.failures:
            summary += f"; {_plural(self.failures, 'problem')} (see above)"
        return summary


def _print_added(added: Added, where: str, out: IO[str]) -> None:
    print(f"{where}: {added.display}", file=out)
    for value in added.stale:
        print(f"  - # sha256: {value}  (matches no file of this release: removed)", file=out)
    for hex_digest, filename, how in added.hashes:
        print(f"    # sha256: {hex_to_peep(hex_digest)}  {filename} ({how})", file=out)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else ('es' if noun.endswith('sh') else 's')}"
