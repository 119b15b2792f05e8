"""A 2 GB archive: hashing it keeps pip's memory bounded, hooked as unhooked.

Slow (it writes, serves and downloads 2 GB), so it is marked ``slow`` and run
by the ``slow`` tox environment, which CI runs too.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import zipfile
from pathlib import Path

import pytest

from tests._support.venvs import run

pytestmark = pytest.mark.slow

SIZE = 2 * 1024**3
_CHUNK = 8 * 1024**2


def _big_wheel(directory: Path) -> tuple[Path, str]:
    """alpha-1.0 holding 2 GB of random bytes, stored uncompressed; its sha256."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "alpha-1.0-py3-none-any.whl"
    dist = "alpha-1.0.dist-info"
    small = {
        "alpha/__init__.py": "VERSION = '1.0'\n",
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, text in small.items():
            zf.writestr(name, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())
            record.append(f"{name},sha256={digest.decode().rstrip('=')},{len(text)}")
        blob = hashlib.sha256()
        with zf.open("alpha/blob.bin", "w", force_zip64=True) as f:
            for _ in range(SIZE // _CHUNK):
                chunk = os.urandom(_CHUNK)
                blob.update(chunk)
                f.write(chunk)
        digest = base64.urlsafe_b64encode(blob.digest()).decode().rstrip("=")
        record.append(f"alpha/blob.bin,sha256={digest},{SIZE}")
        zf.writestr(f"{dist}/RECORD", "\n".join(record + [f"{dist}/RECORD,,"]) + "\n")
    whole = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            whole.update(chunk)
    return path, whole.hexdigest()


def _peak_rss_kb(args: list[str]) -> tuple[int, int]:
    """Run a command in a fresh child; its exit status and peak RSS (KB)."""
    probe = (
        "import resource, subprocess, sys\n"
        "status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    result = run([sys.executable, "-c", probe, *args])
    status, peak = result.stdout.split()
    return int(status), int(peak)


def test_two_gigabyte_archive_is_hashed_in_bounded_memory(make_venv, index, tmp_path):
    path, sha256 = _big_wheel(index.files)
    page = index.root / "simple" / "alpha" / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f'<a href="../../files/{path.name}#sha256={sha256}">{path.name}</a>\n')
    peep = base64.urlsafe_b64encode(bytes.fromhex(sha256)).decode().rstrip("=")
    (tmp_path / "peep.txt").write_text(f"# sha256: {peep}\nalpha==1.0\n")
    (tmp_path / "native.txt").write_text(f"alpha==1.0 --hash=sha256:{sha256}\n")
    hooked, unhooked = make_venv(), make_venv(hooked=False)

    def download(venv, requirements: str, dest: str) -> tuple[int, int]:
        out = tmp_path / dest
        try:
            return _peak_rss_kb([str(venv.bin / "pip"), "download", "--no-cache-dir",
                                 "-i", index.url, "-r", str(tmp_path / requirements),
                                 "-d", str(out)])
        finally:
            for leftover in out.glob("*"):
                leftover.unlink()

    hooked_status, hooked_peak = download(hooked, "peep.txt", "a")
    unhooked_status, unhooked_peak = download(unhooked, "native.txt", "b")

    assert (hooked_status, unhooked_status) == (0, 0)
    assert hooked_peak - unhooked_peak <= 10 * 1024, (hooked_peak, unhooked_peak)
    assert hooked_peak < 200 * 1024  # nowhere near the archive's size
