"""The audit log: one JSON event per decision, to a file or to syslog.

The destination is the ``audit_log`` setting (:mod:`peep_hook.core.policy`):

* a path: each event is one line, written with a single ``write`` on a
  descriptor opened with ``O_APPEND``, under an exclusive ``flock``, so
  concurrent pips never interleave their lines, whatever their length;
* ``syslog`` (the local syslog socket, ``/dev/log``) or ``syslog:<socket>``:
  each event is one datagram, the JSON as the message of a classic local
  syslog line, ``<PRI>Mmm dd hh:mm:ss peep-hook[PID]: {...}``, as the C
  library's ``syslog(3)`` writes it, which rsyslog, syslog-ng and journald
  all parse. Facility ``authpriv``; severity ``info`` for ``verified`` and
  ``warning`` for every other verdict.

Why ``authpriv``: an event says who installed what, with their command line;
syslog daemons route ``authpriv`` to files only root reads (``auth.log``,
``secure``) and keep it out of the general logs, as for sudo's records.

The socket is written directly rather than through
``logging.handlers.SysLogHandler``, which reports a failed send to stderr and
carries on: under ``strict`` a destination that cannot be written must refuse,
so connecting (which fails on a missing socket or one nobody listens on) and
every send raise :class:`AuditError`. A message longer than rsyslog's default
limit is shortened inside its longest text fields, so the JSON stays whole.
"""

from __future__ import annotations

import datetime
import errno
import getpass
import json
import os
import re
import shlex
import socket
import sys
import time
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: O_APPEND alone
    fcntl = None  # type: ignore[assignment]

VERDICTS = ("verified", "mismatch", "missing", "refused")

SYSLOG = "syslog"
DEFAULT_SYSLOG_SOCKET = "/dev/log"
SYSLOG_TAG = "peep-hook"
SYSLOG_FACILITY = 10  # LOG_AUTHPRIV
SYSLOG_FACILITY_NAME = "authpriv"
_INFO, _WARNING = 6, 4
#: rsyslog's default maxMessageSize is 8096 bytes: stay under it, header included
MAX_SYSLOG_MESSAGE = 8000
_SEND_TIMEOUT = 10.0  # a wedged syslog daemon fails the send instead of hanging pip
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SHORTENED = " [truncated]"


class AuditError(OSError):
    """The audit log cannot be written."""


def syslog_socket(destination: str) -> str | None:
    """The socket a destination names if it is syslog, or None for a file."""
    value = destination.strip()
    if value == SYSLOG:
        return DEFAULT_SYSLOG_SOCKET
    if value.startswith(SYSLOG + ":"):
        return value[len(SYSLOG) + 1:]
    return None


def describe(destination: str) -> str:
    """How ``status`` shows a destination."""
    sock = syslog_socket(destination)
    if sock is None:
        return destination
    return (f"syslog via {sock or '(no socket named)'}, facility {SYSLOG_FACILITY_NAME}, "
            f"tag {SYSLOG_TAG}")


# Credentials in a URL (an index given as https://user:token@host/simple):
# events travel to a file other users may read, or to the fleet's log
# pipeline. Redacted as pip redacts them in its own output. The one redactor
# of free text (pip's redact_auth_from_url takes one URL): fill's messages
# quote errors that hold URLs, and use it too.
_URL_AUTH = re.compile(r"(://)([^/@\s:]*)(:[^/@\s]*)?@")


def redact(text: str) -> str:
    """``text`` with the password of any URL in it (a bare token: the token)
    replaced by ``****``, as pip shows URLs."""
    return _URL_AUTH.sub(
        lambda m: f"{m.group(1)}{m.group(2)}:****@" if m.group(3) is not None
        else f"{m.group(1)}****@", text)


class AuditLog:
    def __init__(self, path: str, pip_version: str) -> None:
        self.path = path
        self._socket_path = syslog_socket(path)
        self._sock: socket.socket | None = None
        self._base = {
            "user": _user(),
            "python": sys.executable,
            "pip": pip_version,
            "command": redact(" ".join(shlex.quote(a) for a in sys.argv)),
        }

    def check_writable(self) -> None:
        """Fail now, before pip fetches anything, if the log cannot be written."""
        if self._socket_path is not None:
            self._connect()
        else:
            self._append(b"")

    def record(self, verdict: str, **fields: Any) -> None:
        entry = {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **self._base,
            "verdict": verdict,
            **{k: redact(v) if isinstance(v, str) else v
               for k, v in fields.items() if v is not None},
        }
        if self._socket_path is not None:
            self._send(_syslog_message(verdict, entry))
        else:
            self._append((json.dumps(entry, sort_keys=True) + "\n").encode("utf-8"))

    # -- a file ----------------------------------------------------------------

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

    # -- syslog ----------------------------------------------------------------

    def _connect(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        where = self._socket_path
        if not where:
            raise AuditError(f"cannot write the audit log to syslog: {self.path!r} names "
                             "no socket")
        family = getattr(socket, "AF_UNIX", None)
        if family is None:
            raise AuditError("cannot write the audit log to syslog: no Unix sockets here")
        last: OSError | None = None
        # /dev/log is a datagram socket; a few old daemons listen on a stream.
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            sock = socket.socket(family, kind)
            try:
                sock.settimeout(_SEND_TIMEOUT)
                sock.connect(where)
            except OSError as exc:
                sock.close()
                last = exc
                if exc.errno == errno.EPROTOTYPE:
                    continue
                break
            self._sock = sock
            return sock
        reason = (last.strerror if last is not None else None) or str(last)
        raise AuditError(f"cannot write the audit log to syslog at {where}: {reason}")

    def _send(self, message: bytes) -> None:
        # Once more on a fresh connection: the daemon may have restarted.
        for attempt in (1, 2):
            sock = self._connect()
            try:
                if sock.type == socket.SOCK_STREAM:
                    sock.sendall(message + b"\0")
                else:
                    sock.send(message)
                return
            except OSError as exc:
                sock.close()
                self._sock = None
                if attempt == 2:
                    reason = exc.strerror or str(exc)
                    raise AuditError(f"cannot write the audit log to syslog at "
                                     f"{self._socket_path}: {reason}") from exc


def _syslog_message(verdict: str, entry: dict[str, Any]) -> bytes:
    priority = SYSLOG_FACILITY * 8 + (_INFO if verdict == "verified" else _WARNING)
    now = time.localtime()
    # syslog(3)'s header: local time, month in English whatever the locale.
    header = (f"<{priority}>{_MONTHS[now.tm_mon - 1]} {now.tm_mday:2d} "
              f"{now.tm_hour:02d}:{now.tm_min:02d}:{now.tm_sec:02d} "
              f"{SYSLOG_TAG}[{os.getpid()}]: ").encode("ascii")
    body = json.dumps(entry, sort_keys=True)  # ASCII: one character, one byte
    room = MAX_SYSLOG_MESSAGE - len(header)
    while len(body) > room:
        texts = [(len(v), k) for k, v in entry.items()
                 if isinstance(v, str) and len(v) > len(_SHORTENED) and k != "verdict"]
        if not texts:
            break
        _, longest = max(texts)
        entry = dict(entry, **{longest: _shorten(entry[longest], len(body) - room)})
        body = json.dumps(entry, sort_keys=True)
    return header + body.encode("ascii")


def _shorten(text: str, excess: int) -> str:
    """The longest prefix of ``text``, marked, whose JSON is ``excess`` bytes
    shorter (escapes make bytes and characters differ, so search)."""
    target = len(json.dumps(text)) - excess
    low, high = 0, len(text) - 1  # high: at least one character goes
    while low < high:
        middle = (low + high + 1) // 2
        if len(json.dumps(text[:middle] + _SHORTENED)) <= target:
            low = middle
        else:
            high = middle - 1
    return text[:low] + _SHORTENED


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
