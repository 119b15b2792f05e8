"""The command line, run in-process and as `python -m peep_hook`."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from peep_hook.commands.cli import main
from peep_hook.core.hashes import hex_to_peep

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


# -- port ---------------------------------------------------------------------------

FLASK = "L9XU_-gfdi3So-WEctaQoNu6N2Z3ZQYAOu4-16qor-8"
FLASK_HEX = "2fd5d4ffe81f762dd2a3e58472d690a0dbba3766776506003aee3ed7aaa8afef"
KITSUNE = ROOT / "tests" / "data" / "peep-files" / "kitsune-default.txt"


def test_port_prints_the_file_in_pips_form(tmp_path, capsys):
    path = tmp_path / "requirements.txt"
    path.write_text(f"# web\n# sha256: {FLASK}\nFlask==0.9\n")
    assert main(["port", str(path)]) == 0
    out = capsys.readouterr()
    assert out.out == f"# web\nFlask==0.9 \\\n    --hash=sha256:{FLASK_HEX}\n"
    assert out.err == ""


def test_port_to_peep_prints_the_file_in_peeps_form(tmp_path, capsys):
    path = tmp_path / "requirements.txt"
    path.write_text(f"Flask==0.9 \\\n    --hash=sha256:{FLASK_HEX}\n")
    assert main(["port", "--to", "peep", str(path)]) == 0
    assert capsys.readouterr().out == f"# sha256: {FLASK}\nFlask==0.9\n"


def test_port_of_kitsune_keeps_every_hash(capsys):
    assert main(["port", str(KITSUNE)]) == 0
    assert capsys.readouterr().out.count("--hash=sha256:") == 185


def test_port_refuses_a_malformed_value_with_file_and_line(tmp_path, capsys):
    path = tmp_path / "requirements.txt"
    path.write_text(f"# sha256: {FLASK}\nFlask==0.9\n# sha256: {FLASK_HEX}\nx==1\n")
    assert main(["port", str(path)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith(f"{path}:3: '{FLASK_HEX}' is a hex digest")


def test_port_warns_about_hash_lines_it_keeps_as_comments(tmp_path, capsys):
    path = tmp_path / "requirements.txt"
    path.write_text(f"Flask==0.9 --hash=sha256:{FLASK_HEX}\n# sha256: {FLASK}\n")
    assert main(["port", str(path)]) == 0
    out = capsys.readouterr()
    assert out.out == f"Flask==0.9 --hash=sha256:{FLASK_HEX}\n# sha256: {FLASK}\n"
    assert out.err == (f"{path}:2: warning: hash line belongs to no requirement; "
                       "kept as a comment\n")


def test_port_of_a_missing_file_exits_1(tmp_path, capsys):
    assert main(["port", str(tmp_path / "nope.txt")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_port_to_an_unknown_form_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["port", "--to", "hex", str(tmp_path / "r.txt")])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# -- check --------------------------------------------------------------------------


def test_check_of_a_clean_file_exits_0_with_a_summary(capsys):
    assert main(["check", str(KITSUNE)]) == 0
    assert capsys.readouterr().out == (
        "peep-hook check: 1 file, 94 requirements, no problems\n")


def test_check_lists_findings_then_the_summary_and_exits_1(tmp_path, capsys):
    path = tmp_path / "requirements.txt"
    path.write_text(f"#sha256: {FLASK}\nFlask>=0.9\n")
    assert main(["check", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}:1: looks like a hash line but is not one (peep reads '# sha256: <value>'): "
        f"#sha256: {FLASK}",
        f"{path}:2: Flask has no hash",
        f"{path}:2: Flask is not pinned with == or ===",
        "peep-hook check: 1 file, 1 requirement, 3 problems",
    ]


def test_check_notes_what_it_did_not_follow_on_stderr(tmp_path, capsys):
    path = tmp_path / "requirements.txt"
    path.write_text("-r https://example/base.txt\n")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr()
    assert out.err == (f"{path}:1: note: not following https://example/base.txt "
                       "(only local files are checked)\n")


def test_check_of_a_missing_file_exits_1(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.txt")]) == 1
    assert "cannot read" in capsys.readouterr().out


def test_check_without_files_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["check"])
    assert exited.value.code == 2


@pytest.mark.parametrize("command", ["hash", "port", "check"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: peep-hook {command} ")
