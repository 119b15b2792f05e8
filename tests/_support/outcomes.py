"""What a test asks of a finished pip run, and the files it writes for one."""

from __future__ import annotations

from pathlib import Path

from tests._support.venvs import Result


def refused(result: Result) -> bool:
    """pip stopped with exit 1 and an ERROR, not with a traceback."""
    return (result.returncode == 1 and "ERROR:" in result.stderr
            and "Traceback" not in result.output)


def exit_1_without_traceback(result: Result) -> bool:
    """pip stopped with exit 1, not with a traceback (wherever its error went:
    a build's child pip prints to the parent's stdout)."""
    return result.returncode == 1 and "Traceback" not in result.output


def assert_ok(result: Result) -> Result:
    """``result``, asserted a success without a traceback."""
    assert result.returncode == 0 and "Traceback" not in result.output, str(result)
    return result


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def imported_modules(importtime_stderr: str) -> set[str]:
    """The modules a ``python -X importtime`` run imported."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    names.discard("imported package")  # the table's heading
    return names
