"""Policies (strict, warn, off), the administrator's pin, and the audit log."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from peep_hook.core import policy
from tests._support.archives import tampered, wheel
from tests._support.venvs import Venv, clean_env


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "peep-hook.ini"
    path.write_text(text)
    return str(path)


def test_environment_chooses_the_mode_without_an_administrator_file():
    assert policy.current({"PEEP_HOOK": "warn"}).mode == "warn"
    assert policy.current({}).mode == "strict"


def test_administrator_pin_cannot_be_weakened_by_the_environment(tmp_path):
    config = _config(tmp_path, "[peep-hook]\npolicy = strict\n")
    setting = policy.current({"PEEP_HOOK": "off"}, config_path=config)
    assert (setting.mode, setting.source) == ("strict", config)
    assert "ignored" in setting.warning


def test_environment_may_be_stricter_than_the_administrator_pin(tmp_path):
    config = _config(tmp_path, "[peep-hook]\npolicy = warn\n")
    assert policy.current({"PEEP_HOOK": "strict"}, config_path=config).mode == "strict"
    assert policy.current({"PEEP_HOOK": "off"}, config_path=config).mode == "warn"


def test_administrator_audit_log_wins_over_the_environment(tmp_path):
    config = _config(tmp_path, "[peep-hook]\naudit_log = /var/log/a.jsonl\n")
    setting = policy.current({"PEEP_HOOK_AUDIT_LOG": "/tmp/b.jsonl"}, config_path=config)
    assert setting.audit_log == "/var/log/a.jsonl" and setting.mode == "strict"


@pytest.mark.parametrize("text", ["[peep-hook]\npolicy = lenient\n", "not an ini file ["])
def test_broken_administrator_file_is_an_error(tmp_path, text):
    with pytest.raises(policy.ConfigError):
        policy.current({}, config_path=_config(tmp_path, text))


def test_warn_reports_a_mismatch_and_lets_pip_go_on(venv: Venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url, env={"PEEP_HOOK": "warn"})

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha")
    assert "policy is warn" in result.stderr
    assert f"# sha256: {alpha.peep}" in result.stderr  # what strict would have said


def test_warn_reports_missing_hashes_with_their_blocks(venv, index, tmp_path):
    app, dep = wheel("app", "1.0", requires=["dep"]), wheel("dep", "2.0")
    index.publish(app, dep)
    req = tmp_path / "requirements.txt"
    req.write_text("app==1.0\n")

    result = venv.pip("install", "-r", req, "-i", index.url, env={"PEEP_HOOK": "warn"})

    assert result.returncode == 0, str(result)
    assert venv.installed("app") and venv.installed("dep")
    # pip indents what it logs while preparing a requirement.
    assert re.search(rf"# sha256: {re.escape(app.peep)}\n\s*app==1.0\n", result.stderr)
    assert re.search(rf"# sha256: {re.escape(dep.peep)}\n\s*dep==2.0\n", result.stderr)


def _audit_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_audit_log_records_verified_and_refused_archives(venv, index, tmp_path):
    alpha, gamma = wheel("alpha", "1.0"), wheel("gamma", "2.0")
    index.publish(alpha, tampered(gamma))
    log = tmp_path / "audit.jsonl"
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block() + gamma.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url,
                      env={"PEEP_HOOK_AUDIT_LOG": str(log)})

    assert result.returncode == 1, str(result)
    entries = _audit_lines(log)
    verdicts = {e["requirement"]: e["verdict"] for e in entries}
    assert verdicts == {"alpha==1.0": "verified", "gamma==2.0": "mismatch"}
    verified = next(e for e in entries if e["verdict"] == "verified")
    assert verified["sha256"] == alpha.sha256
    assert verified["file"] == str(req) and verified["line"] == 2
    assert verified["url"] == f"{index.base}/files/alpha-1.0-py3-none-any.whl"
    assert {"time", "user", "python", "pip", "command"} <= set(verified)
    mismatch = next(e for e in entries if e["verdict"] == "mismatch")
    assert mismatch["sha256"] == tampered(gamma).sha256


def test_unwritable_audit_log_refuses_in_strict_mode(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    log = tmp_path / "no-such-dir" / "audit.jsonl"

    strict = venv.pip("install", "-r", req, "-i", index.url,
                      env={"PEEP_HOOK_AUDIT_LOG": str(log)})
    assert strict.returncode == 1, str(strict)
    assert "audit log" in strict.stderr and not venv.installed("alpha")

    warn = venv.pip("install", "-r", req, "-i", index.url,
                    env={"PEEP_HOOK_AUDIT_LOG": str(log), "PEEP_HOOK": "warn"})
    assert warn.returncode == 0, str(warn)


def test_concurrent_pips_append_whole_lines(venv, index, tmp_path):
    archives = [wheel(f"pkg{i}", "1.0") for i in range(4)]
    index.publish(*archives)
    log = tmp_path / "audit.jsonl"
    procs = []
    for i, archive in enumerate(archives):
        req = tmp_path / f"req{i}.txt"
        req.write_text(archive.peep_block())
        procs.append(subprocess.Popen(
            [str(venv.bin / "pip"), "download", "-r", str(req), "-i", index.url,
             "-d", str(tmp_path / f"d{i}")],
            env=clean_env({"PEEP_HOOK_AUDIT_LOG": str(log)}),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]

    entries = _audit_lines(log)
    assert sorted(e["requirement"] for e in entries) == [f"pkg{i}==1.0" for i in range(4)]
    assert all(e["verdict"] == "verified" for e in entries)
