"""Work done once per test run, however many pytest-xdist workers ask for it.

Every worker of a run has its own base temporary directory, all in the same
parent: that parent is the run's (without xdist, the base directory itself).
What one worker makes there under an exclusive lock, the others find made.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest


def run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This run's directory, shared by its workers (not the user's directory of runs)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def locked(tmp_path_factory: pytest.TempPathFactory, name: str,
           parent: Path | None = None) -> Iterator[Path]:
    """The run's directory ``name`` (or ``parent``'s), held by this worker alone
    until the block ends."""
    shared = (parent or run_directory(tmp_path_factory)) / name
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield shared


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str,
                 compute: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
    """``compute()``'s facts (JSON), computed by the first worker to ask and
    read from a file by the others."""
    with locked(tmp_path_factory, name) as shared:
        recorded = shared / "facts.json"
        if recorded.exists():
            return json.loads(recorded.read_text())
        facts = compute()
        recorded.write_text(json.dumps(facts))
        return facts
