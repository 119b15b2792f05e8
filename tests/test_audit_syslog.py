"""Audit events to syslog: ``audit_log = syslog`` or ``syslog:/path/to/socket``.

A datagram socket bound in a short temporary directory stands in for
``/dev/log``; what it receives is what rsyslog or journald would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from peep_hook.core import audit, policy
from tests._support.archives import tampered, wheel

# <PRI>Mmm dd hh:mm:ss peep-hook[PID]: {json}, as syslog(3) writes it.
LINE_RE = re.compile(
    rb"<(?P<pri>\d+)>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d "
    rb"\d\d:\d\d:\d\d peep-hook\[(?P<pid>\d+)\]: (?P<json>\{.*\})\Z", re.S)
AUTHPRIV = 10


class Receiver:
    """A stand-in for /dev/log, read by a thread so senders never block."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.messages: list[bytes] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(path)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self._sock.recv(65536))
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def events(self) -> list[tuple[int, dict]]:
        """(priority, event) of each message; every one must parse whole."""
        parsed = []
        for message in self.messages:
            match = LINE_RE.match(message)
            assert match is not None, message
            parsed.append((int(match.group("pri")), json.loads(match.group("json"))))
        return parsed


@pytest.fixture
def short_dir() -> Iterator[str]:
    # A Unix socket path must fit in 108 bytes: pytest's tmp_path may not.
    path = tempfile.mkdtemp(prefix="ph-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def receiver(short_dir: str) -> Iterator[Receiver]:
    served = Receiver(os.path.join(short_dir, "log"))
    yield served
    served.close()


def wait_for(receiver: Receiver, count: int) -> None:
    for _ in range(100):
        if len(receiver.messages) >= count:
            return
        threading.Event().wait(0.05)


# -- AuditLog ---------------------------------------------------------------------


def _record_to_syslog_and_file(receiver: Receiver, tmp_path: Path,
                               fields: dict) -> tuple[int, dict, dict]:
    """One "verified" event, to syslog and to a file: (priority, datagram, file line)."""
    to_syslog = audit.AuditLog(f"syslog:{receiver.path}", "26.3")
    to_syslog.check_writable()
    to_syslog.record("verified", **fields)
    to_file = audit.AuditLog(str(tmp_path / "audit.jsonl"), "26.3")
    to_file.record("verified", **fields)
    wait_for(receiver, 1)
    [(priority, event)] = receiver.events()
    return priority, event, json.loads((tmp_path / "audit.jsonl").read_text())


def test_syslog_names_the_local_socket_and_syslog_path_names_another():
    assert audit.syslog_socket("syslog") == "/dev/log"
    assert audit.syslog_socket(" syslog:/run/x/log ") == "/run/x/log"
    assert audit.syslog_socket("/var/log/peep-hook.jsonl") is None
    assert audit.syslog_socket("./syslog") is None  # a file that happens to be called so
    assert "facility authpriv, tag peep-hook" in audit.describe("syslog")


def test_event_is_one_datagram_holding_the_same_json_as_the_file_line(receiver, tmp_path):
    fields = {"requirement": "alpha==1.0", "file": "/srv/req.txt", "line": 2,
              "url": "http://127.0.0.1/alpha.whl", "sha256": "ab" * 32}
    priority, event, line = _record_to_syslog_and_file(receiver, tmp_path, fields)

    assert priority == AUTHPRIV * 8 + 6  # authpriv.info
    assert {k: v for k, v in event.items() if k != "time"} == {
        k: v for k, v in line.items() if k != "time"}
    assert event["verdict"] == "verified" and event["sha256"] == "ab" * 32


def test_every_verdict_but_verified_is_a_warning(receiver):
    log = audit.AuditLog(f"syslog:{receiver.path}", "26.3")
    for verdict in ("mismatch", "missing", "refused"):
        log.record(verdict, requirement="alpha==1.0")
    wait_for(receiver, 3)
    assert [p for p, _ in receiver.events()] == [AUTHPRIV * 8 + 4] * 3


def test_a_missing_socket_is_detected_before_anything_is_fetched(short_dir):
    log = audit.AuditLog(f"syslog:{short_dir}/nothing", "26.3")
    with pytest.raises(audit.AuditError, match="audit log to syslog at .*nothing"):
        log.check_writable()


def test_a_socket_nobody_listens_on_is_detected(short_dir):
    path = os.path.join(short_dir, "stale")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.close()  # the file stays, as after a crashed daemon
    with pytest.raises(audit.AuditError):
        audit.AuditLog(f"syslog:{path}", "26.3").check_writable()


def test_syslog_without_a_socket_path_is_refused():
    with pytest.raises(audit.AuditError, match="names no socket"):
        audit.AuditLog("syslog:", "26.3").check_writable()


def test_a_daemon_gone_after_the_check_fails_the_next_event(short_dir):
    first = Receiver(os.path.join(short_dir, "log"))
    log = audit.AuditLog(f"syslog:{first.path}", "26.3")
    log.check_writable()
    first.close()
    with pytest.raises(audit.AuditError):
        log.record("verified", requirement="alpha==1.0")


def test_a_restarted_daemon_gets_the_next_event(short_dir):
    path = os.path.join(short_dir, "log")
    first = Receiver(path)
    log = audit.AuditLog(f"syslog:{path}", "26.3")
    log.check_writable()
    first.close()
    second = Receiver(path)
    try:
        log.record("verified", requirement="alpha==1.0")
        wait_for(second, 1)
        assert [e["requirement"] for _, e in second.events()] == ["alpha==1.0"]
    finally:
        second.close()


def test_a_long_event_is_shortened_inside_its_fields_and_stays_json(receiver):
    log = audit.AuditLog(f"syslog:{receiver.path}", "26.3")
    reason = "peep-hook: alpha==1.0 has no hash\n    # sha256: x\n" * 400
    log.record("refused", requirement="alpha==1.0", reason=reason)
    wait_for(receiver, 1)

    [message] = receiver.messages
    assert len(message) <= audit.MAX_SYSLOG_MESSAGE
    [(_, event)] = receiver.events()
    assert event["reason"].endswith(" [truncated]")
    assert reason.startswith(event["reason"][: -len(" [truncated]")])
    assert event["requirement"] == "alpha==1.0" and event["verdict"] == "refused"


def test_the_administrators_file_may_name_syslog(tmp_path):
    config = tmp_path / "peep-hook.ini"
    config.write_text("[peep-hook]\naudit_log = syslog\n")
    setting = policy.current({}, config_path=str(config))
    assert setting.audit_log == "syslog"
    assert audit.AuditLog(setting.audit_log, "26.3")._socket_path == "/dev/log"


# -- a real pip ---------------------------------------------------------------------


def test_pip_install_sends_its_decisions_to_syslog(venv, index, tmp_path, receiver):
    alpha, gamma = wheel("alpha", "1.0"), wheel("gamma", "2.0")
    index.publish(alpha, tampered(gamma))
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    env = {"PEEP_HOOK_AUDIT_LOG": f"syslog:{receiver.path}"}

    result = venv.pip("install", "-r", req, "-i", index.url, env=env)
    assert result.returncode == 0, str(result)
    refused = tmp_path / "refused.txt"
    refused.write_text(gamma.peep_block())
    assert venv.pip("install", "-r", refused, "-i", index.url, env=env).returncode == 1
    wait_for(receiver, 2)

    events = receiver.events()
    verified = [e for p, e in events if e["verdict"] == "verified"]
    assert [(e["requirement"], e["sha256"], e["line"]) for e in verified] == [
        ("alpha==1.0", alpha.sha256, 2)]
    assert {"time", "user", "python", "pip", "command", "url", "file"} <= set(verified[0])
    mismatch = [(p, e) for p, e in events if e["verdict"] == "mismatch"]
    assert [(p, e["sha256"]) for p, e in mismatch] == [(AUTHPRIV * 8 + 4,
                                                         tampered(gamma).sha256)]


def test_strict_refuses_when_the_syslog_socket_is_missing(venv, index, tmp_path, short_dir):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    env = {"PEEP_HOOK_AUDIT_LOG": f"syslog:{short_dir}/missing"}

    strict = venv.pip("install", "-r", req, "-i", index.url, env=env)
    assert strict.returncode == 1, str(strict)
    assert "audit log to syslog" in strict.stderr and not venv.installed("alpha")
    assert "Traceback" not in strict.output

    warn = venv.pip("install", "-r", req, "-i", index.url, env={**env, "PEEP_HOOK": "warn"})
    assert warn.returncode == 0, str(warn)


def test_credentials_in_urls_never_reach_the_log(receiver, tmp_path, monkeypatch):
    # An index given with a token or a password: the command line and the
    # archive's URL are logged, to a shared file or the fleet's pipeline.
    monkeypatch.setattr(sys, "argv", [
        "pip", "install", "-i", "https://deploy:s3cret@pypi.example/simple",
        "--extra-index-url", "https://tok3n@other.example/simple", "-r", "req.txt"])
    fields = {"requirement": "alpha==1.0",
              "url": "https://deploy:s3cret@pypi.example/files/alpha-1.0.whl"}
    _, event, line = _record_to_syslog_and_file(receiver, tmp_path, fields)

    for logged in (event, line):
        text = json.dumps(logged)
        assert "s3cret" not in text and "tok3n" not in text, text
        assert logged["url"] == "https://deploy:****@pypi.example/files/alpha-1.0.whl"
        assert "https://deploy:****@pypi.example/simple" in logged["command"]
        assert "https://****@other.example/simple" in logged["command"]
    assert audit.redact("see https://h.example/a#sha256=ab, user@host") == (
        "see https://h.example/a#sha256=ab, user@host")
