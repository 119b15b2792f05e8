"""The audit log: one JSON line per decision, appended atomically.

Each record is written with a single ``write`` on a descriptor opened with
``O_APPEND``, under an exclusive ``flock``: concurrent pips never interleave
their lines, whatever their length.
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
import shlex
import sys
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: O_APPEND alone
    fcntl = None  # type: ignore[assignment]

VERDICTS = ("verified", "mismatch", "missing", "refused")


class AuditError(OSError):
    """The audit log cannot be written."""


class AuditLog:
    def __init__(self, path: str, pip_version: str) -> None:
        self.path = path
        self._base = {
            "user": _user(),
            "python": sys.executable,
            "pip": pip_version,
            "command": " ".join(shlex.quote(a) for a in sys.argv),
        }

    def check_writable(self) -> None:
        """Fail now, before pip fetches anything, if the log cannot be appended to."""
        self._append(b"")

    def record(self, verdict: str, **fields: Any) -> None:
        entry = {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **self._base,
            "verdict": verdict,
            **{k: v for k, v in fields.items() if v is not None},
        }
        self._append((json.dumps(entry, sort_keys=True) + "\n").encode("utf-8"))

    def _append(self, data: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc.strerror}") from exc
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError as exc:
            raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror}") from exc
        finally:
            os.close(fd)  # closing releases the lock


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
