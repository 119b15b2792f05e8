"""The pip under test: its version, and the modes a test runs it in."""

from __future__ import annotations

import os

import pytest

#: (major, minor) of the pip under test, as tox names it
PIP = tuple(int(p) for p in os.environ.get("PEEP_HOOK_TEST_PIP", "0.0").split(".")[:2])

LEGACY = "--use-deprecated=legacy-resolver"  # on every supported pip (20.3 to 26.3)
#: both resolvers
RESOLVERS = pytest.mark.parametrize("resolver", [(), (LEGACY,)], ids=["resolvelib", "legacy"])

# How pip installs build dependencies: a child pip (every pip), or pip 26's
# in-process installer.
IN_PROCESS_BUILD_DEPS = ["--use-feature", "inprocess-build-deps"]
BUILD_MODES: list[list[str]] = [[]] + ([IN_PROCESS_BUILD_DEPS] if PIP >= (26, 0) else [])
MODE_IDS = ["subprocess"] + (["in-process"] if PIP >= (26, 0) else [])
