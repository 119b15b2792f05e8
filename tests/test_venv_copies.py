"""The suite's venvs are copies of a template (tests/_support/venvs.py): each
copy must be a venv of its own, as one made afresh is, and leave the template
as it was."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
from pathlib import Path

from tests._support.archives import wheel
from tests._support.venvs import Venv

_WHERE = ("import json, sys, sysconfig, _peep_hook_start, wrapt; print(json.dumps(["
          "sys.prefix, sysconfig.get_paths()['purelib'], _peep_hook_start.__file__, "
          "wrapt.__file__]))")


def _state(top: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry below ``top``: its mode, size and (for a file) content hash."""
    seen = {}
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(root, name)
            info = path.lstat()
            digest = (hashlib.sha256(path.read_bytes()).hexdigest()
                      if path.is_file() and not path.is_symlink() else "")
            seen[str(path.relative_to(top))] = (info.st_mode, info.st_size, digest)
    return seen


def _mismatched_record_rows(venv: Venv) -> list[str]:
    """RECORD rows whose hash is not their file's."""
    wrong = []
    for record in venv.site_packages.glob("*.dist-info/RECORD"):
        for row in csv.reader(record.read_text().splitlines()):
            if len(row) == 3 and row[1]:
                data = (venv.site_packages / row[0]).read_bytes()
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()
                if row[1] != f"sha256={digest.rstrip('=')}":
                    wrong.append(",".join(row))
    return wrong


def test_a_copied_venv_runs_as_itself_and_leaves_its_template_alone(
        make_venv, venv_template, index, tmp_path):
    template = venv_template(hooked=True)
    before = _state(template.path)

    copy = make_venv()
    where = copy.python_run("-c", _WHERE)
    pip = copy.pip("--version")  # the console script: its shebang names the copy's python
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    unhashed = copy.pip("install", "alpha==1.0", "-i", index.url)  # the hook is armed
    (tmp_path / "req.txt").write_text(alpha.peep_block())
    installed = copy.pip("install", "-r", tmp_path / "req.txt", "-i", index.url)

    assert where.returncode == 0, str(where)
    prefix, purelib, start, wrapt = json.loads(where.stdout)
    assert Path(prefix) == copy.path
    assert Path(purelib) == copy.site_packages
    assert Path(start).parent == Path(wrapt).parent.parent == copy.site_packages  # the hook's
    assert pip.returncode == 0 and f"from {copy.site_packages / 'pip'} " in pip.stdout, str(pip)
    assert unhashed.returncode == 1 and f"# sha256: {alpha.peep}" in unhashed.stderr, str(unhashed)
    assert installed.returncode == 0, str(installed)
    assert copy.installed("alpha") and not template.installed("alpha")
    assert _mismatched_record_rows(copy) == []  # the rewritten scripts' rows too
    assert not any(str(template.path) in p.read_text(errors="replace")
                   for p in copy.bin.iterdir() if p.is_file() and not p.is_symlink())
    assert _state(template.path) == before
