"""Hashed pins by project name, and their hand-off to pip's build children.

Every requirement or constraint line that carries hashes, and whose environment
marker holds, adds its hashes (and its ``==`` version) to a :class:`Pins`
registry. The registry is what checks
archives that no line names directly: dependencies hashed only in a ``-c``
file, and build dependencies, which pip installs from requirement strings in
a child process. The parent writes the registry to a private file and names it
in ``PEEP_HOOK_HANDOFF``; the child reads it and accepts nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

HANDOFF_ENV = "PEEP_HOOK_HANDOFF"
_FORMAT = "peep-hook-pins/1"


def canonical_name(name: str) -> str:
    """PEP 503 normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


class HandoffError(Exception):
    """The hand-off file is missing, unreadable, or not what the parent wrote."""


@dataclass
class Pin:
    versions: set[str] = field(default_factory=set)  # exact versions pinned with ==
    hashes: list[str] = field(default_factory=list)  # hex sha256, in file order
    origins: list[str] = field(default_factory=list)  # "file:line" of each line


class Pins:
    """Hashes (and exact versions) that the requirements and constraints files give each name."""

    def __init__(self) -> None:
        self._pins: dict[str, Pin] = {}

    def __bool__(self) -> bool:
        return bool(self._pins)

    def add(self, name: str, version: str | None, hexes: list[str], origin: str) -> None:
        pin = self._pins.setdefault(canonical_name(name), Pin())
        if version is not None:
            pin.versions.add(version)
        pin.hashes.extend(h for h in hexes if h not in pin.hashes)
        if origin not in pin.origins:
            pin.origins.append(origin)

    def get(self, name: str) -> Pin | None:
        return self._pins.get(canonical_name(name))

    def hashes_for(self, name: str) -> list[str]:
        pin = self.get(name)
        return list(pin.hashes) if pin else []

    def exact_version(self, name: str) -> str | None:
        """The one version pinned for ``name``, or None if none or several."""
        pin = self.get(name)
        if pin is None or len(pin.versions) != 1:
            return None
        return next(iter(pin.versions))

    def exact_pins(self) -> dict[str, str]:
        return {
            name: next(iter(pin.versions))
            for name, pin in self._pins.items()
            if len(pin.versions) == 1 and pin.hashes
        }

    # -- the hand-off file ---------------------------------------------------

    def to_text(self) -> str:
        body = {
            name: {"versions": sorted(p.versions), "hashes": p.hashes, "origins": p.origins}
            for name, p in sorted(self._pins.items())
        }
        payload = json.dumps(body, sort_keys=True, separators=(",", ":"))
        checksum = hashlib.sha256(payload.encode()).hexdigest()
        return json.dumps({"format": _FORMAT, "payload": payload, "sha256": checksum})

    @classmethod
    def from_text(cls, text: str) -> Pins:
        try:
            outer = json.loads(text)
            payload = outer["payload"]
            ok = (
                outer.get("format") == _FORMAT
                and hashlib.sha256(payload.encode()).hexdigest() == outer["sha256"]
            )
            body = json.loads(payload) if ok else None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise HandoffError(f"it is not a peep-hook hand-off ({exc})") from exc
        if body is None:
            raise HandoffError("its checksum does not match: it was altered or truncated")
        pins = cls()
        for name, entry in body.items():
            pins._pins[name] = Pin(set(entry["versions"]), list(entry["hashes"]),
                                   list(entry["origins"]))
        return pins

    @classmethod
    def read_handoff(cls, path: str) -> Pins:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise HandoffError(f"cannot read {path}: {exc.strerror}") from exc
        return cls.from_text(text)

    @contextmanager
    def handed_off(self) -> Iterator[str]:
        """Write a private hand-off file and name it in the environment while
        the block runs; remove both afterwards, even on SIGTERM."""
        directory = tempfile.mkdtemp(prefix="peep-hook-")  # mode 0700
        path = os.path.join(directory, "pins.json")
        previous = os.environ.get(HANDOFF_ENV)

        def remove() -> None:
            for leftover, delete in ((path, os.unlink), (directory, os.rmdir)):
                try:
                    delete(leftover)
                except OSError:
                    pass

        restore_sigterm = _remove_on_sigterm(remove)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.to_text())
            os.environ[HANDOFF_ENV] = path
            yield path
        finally:
            if previous is None:
                os.environ.pop(HANDOFF_ENV, None)
            else:
                os.environ[HANDOFF_ENV] = previous
            remove()
            restore_sigterm()


def _remove_on_sigterm(remove: Callable[[], None]) -> Callable[[], None]:
    """While a hand-off exists, let SIGTERM remove it first, then end the
    process by the signal as it would have without the hook (an exception
    would become a pip traceback)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        return lambda: None  # someone else handles it

    def terminate(signum: int, frame: Any) -> None:
        remove()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, terminate)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
