"""Which pips peep-hook supports, without importing pip.

Shared by :mod:`peep_hook.hook.targets` (inside pip) and ``peep-hook status``
(which must not import pip). Standard library only.
"""

from __future__ import annotations

import re
from typing import Tuple

from peep_hook.startup.bootstrap import OLDEST_PIP

#: Oldest pip the patch points are known for (defined in the bootstrap, which
#: names it when the patches cannot load), and the newest release tested.
OLDEST_SUPPORTED = OLDEST_PIP
NEWEST_TESTED = (26, 3)

SUPPORTED = "supported"
TOO_OLD = "older than supported"
NEWER = "newer than tested"


def version_tuple(version: str) -> Tuple[int, int]:
    """(major, minor) of a pip version string such as "26.3" or "26.0b1"."""
    match = re.match(r"(\d+)(?:\.(\d+))?", version)
    if match is None:
        return (0, 0)
    return int(match.group(1)), int(match.group(2) or 0)


def pip_support(version: str) -> str:
    """SUPPORTED, TOO_OLD (the hook refuses to run) or NEWER (it runs when
    every patch point checks out, with a notice)."""
    release = version_tuple(version)
    if release < OLDEST_SUPPORTED:
        return TOO_OLD
    if release > NEWEST_TESTED:
        return NEWER
    return SUPPORTED


def supported_range() -> str:
    return "{} to {}".format(*(".".join(map(str, v)) for v in (OLDEST_SUPPORTED, NEWEST_TESTED)))
