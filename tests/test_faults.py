"""Faults: whatever breaks, pip refuses rather than install unchecked, and a
Python process that is not pip starts normally without a word."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests._support.archives import tampered, wheel
from tests._support.outcomes import exit_1_without_traceback
from tests._support.venvs import Result, Venv


def quiet_python(venv: Venv) -> bool:
    plain = venv.python_run("-c", "print('ok')")
    return (plain.returncode, plain.stdout, plain.stderr) == (0, "ok\n", "")


def _request(venv: Venv, index, tmp_path: Path) -> Result:
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    return venv.pip("install", "-r", req, "-i", index.url)


def test_half_uninstalled_hook_refuses_in_pip_and_names_the_file_to_remove(
        make_venv, index, tmp_path):
    venv = make_venv()
    shutil.rmtree(venv.site_packages / "peep_hook")  # the .pth stays behind

    result = _request(venv, index, tmp_path)

    assert exit_1_without_traceback(result), str(result)
    assert "half installed" in result.stderr
    assert str(venv.site_packages / "peep_hook.pth") in result.stderr
    assert str(venv.site_packages / "_peep_hook_start.py") in result.stderr
    assert not venv.installed("alpha")
    assert quiet_python(venv)
    # Repairable: pip itself still runs, and uninstalling removes the .pth.
    assert venv.pip("--version").returncode == 0
    uninstall = venv.pip("uninstall", "-y", "peep-hook")
    assert uninstall.returncode == 0, str(uninstall)
    assert not (venv.site_packages / "peep_hook.pth").exists()
    assert not (venv.site_packages / "_peep_hook_start.py").exists()
    assert _request(venv, index, tmp_path).returncode == 0  # unhooked again


def test_everything_gone_but_the_pth_names_it_and_python_still_runs(make_venv, index, tmp_path):
    # The .pth line is a bare import (a guarded one costs a compile at every
    # start): deleted by hand, the trampoline's absence is reported by site,
    # loudly rather than silently, and nothing else changes.
    venv = make_venv()
    shutil.rmtree(venv.site_packages / "peep_hook")
    (venv.site_packages / "_peep_hook_start.py").unlink()

    plain = venv.python_run("-c", "print('ok')")
    assert (plain.returncode, plain.stdout) == (0, "ok\n"), str(plain)
    assert "peep_hook.pth" in plain.stderr and "_peep_hook_start" in plain.stderr, str(plain)
    assert venv.pip("uninstall", "-y", "peep-hook").returncode == 0
    assert not (venv.site_packages / "peep_hook.pth").exists()
    assert quiet_python(venv)


def test_module_of_the_hook_failing_to_import_refuses_in_pip(make_venv, index, tmp_path):
    venv = make_venv()
    (venv.site_packages / "peep_hook" / "core" / "messages.py").write_text("raise ImportError('boom')\n")

    result = _request(venv, index, tmp_path)

    assert exit_1_without_traceback(result), str(result)
    assert "peep-hook could not load inside pip (ImportError: boom)" in result.stderr
    assert not venv.installed("alpha")
    assert quiet_python(venv)


def test_patch_target_with_a_changed_signature_refuses(make_venv, index, tmp_path):
    venv = make_venv()
    req_file = venv.site_packages / "pip" / "_internal" / "req" / "req_file.py"
    with req_file.open("a") as f:  # a "future pip" that renamed a parameter
        f.write(
            "\n_original_handle_requirement_line = handle_requirement_line\n"
            "def handle_requirement_line(parsed_line, options=None):\n"
            "    return _original_handle_requirement_line(parsed_line, options)\n"
        )

    result = _request(venv, index, tmp_path)

    assert exit_1_without_traceback(result), str(result)
    assert "handle_requirement_line has parameters (parsed_line, options)" in result.stderr
    assert not venv.installed("alpha")


def test_circular_includes_are_refused_cleanly(venv, index, tmp_path):
    (tmp_path / "a.txt").write_text("-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r a.txt\n")

    result = venv.pip("install", "-r", tmp_path / "a.txt", "-i", index.url)

    assert exit_1_without_traceback(result), str(result)
    # pip 24+ says so itself; before, it recursed until the stack ran out.
    assert ("recursively references itself" in result.stderr
            or "include each other in a loop" in result.stderr)


def test_deeply_nested_includes_keep_their_own_hashes(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    depth = 40
    for level in range(depth):
        (tmp_path / f"level{level}.txt").write_text(f"-r level{level + 1}.txt\n")
    (tmp_path / f"level{depth}.txt").write_text(alpha.peep_block())

    result = venv.pip("install", "-r", tmp_path / "level0.txt", "-i", index.url)

    assert exit_1_without_traceback(result), str(result)
    assert f"level{depth}.txt, line 1" in result.stderr


def test_requirements_file_with_bom_and_crlf_is_read_like_pip_reads_it(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    req = tmp_path / "requirements.txt"
    req.write_bytes(b"\xef\xbb\xbf" + alpha.peep_block().replace("\n", "\r\n").encode())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert exit_1_without_traceback(result), str(result)
    assert f"# sha256: {alpha.peep}" in result.stderr
