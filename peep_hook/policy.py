"""Which enforcement mode is in force, and where that choice came from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

STRICT = "strict"
OFF = "off"
MODES = (STRICT, OFF)

ENV_VAR = "PEEP_HOOK"


@dataclass(frozen=True)
class Policy:
    mode: str
    source: str
    #: a problem with the setting worth telling the user (the mode is still safe)
    warning: str | None = None


def current(environ: Mapping[str, str] = os.environ) -> Policy:
    """Read the mode from ``PEEP_HOOK``. An unknown value never weakens: strict."""
    raw = environ.get(ENV_VAR)
    if raw is None or not raw.strip():
        return Policy(STRICT, "default")
    value = raw.strip().lower()
    if value in MODES:
        return Policy(value, f"{ENV_VAR}={raw}")
    return Policy(
        STRICT,
        "default",
        warning=f"{ENV_VAR}={raw!r} is not one of {', '.join(MODES)}; using strict",
    )
