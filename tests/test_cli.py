"""The command line, run in-process and as `python -m peep_hook`."""

import hashlib
import subprocess
import sys
from pathlib import Path

from peep_hook.cli import main
from peep_hook.hashes import hex_to_peep

ROOT = Path(__file__).resolve().parent.parent


def test_hash_prints_peep_lines(tmp_path, capsys):
    a, b = tmp_path / "a-1.0.tar.gz", tmp_path / "b-1.0-py3-none-any.whl"
    a.write_bytes(b"aaa")
    b.write_bytes(b"bbb")

    assert main(["hash", str(a), str(b)]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"# sha256: {hex_to_peep(hashlib.sha256(b'aaa').hexdigest())}",
        f"# sha256: {hex_to_peep(hashlib.sha256(b'bbb').hexdigest())}",
    ]


def test_hash_pip_form(tmp_path, capsys):
    a = tmp_path / "a.whl"
    a.write_bytes(b"aaa")
    assert main(["hash", "--pip", str(a)]) == 0
    assert capsys.readouterr().out == f"--hash=sha256:{hashlib.sha256(b'aaa').hexdigest()}\n"


def test_hash_of_missing_file_exits_1(tmp_path, capsys):
    assert main(["hash", str(tmp_path / "nope.whl")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_python_dash_m_usage_error_exits_2():
    proc = subprocess.run([sys.executable, "-m", "peep_hook", "frobnicate"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr
