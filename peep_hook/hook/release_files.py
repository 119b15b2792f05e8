"""Which other file of a release a mismatched block's hashes are for.

Only for the hint of a refusal already decided: the files are named from the
sha256 their index page (or find-links page) publishes beside them, never
fetched. Files without a published hash are ignored.
"""

from __future__ import annotations

import copy
from typing import Any

from pip._internal.exceptions import InvalidWheelFilename
from pip._internal.models.wheel import Wheel
from pip._vendor.packaging.version import InvalidVersion, Version

from peep_hook.core.hashed_pins import canonical_name
from peep_hook.core.messages import SDIST_SUFFIXES


def block_files(finder: Any, req: Any, allowed: Any) -> list[str]:
    """The files of ``req``'s release other than the one pip chose whose
    published sha256 is among ``allowed`` (pip's Hashes), each described as
    "the cp311 wheel (app-1.0-cp311-...whl)". Empty when the index lists the
    block's hash for the chosen file itself: then no other file explains it."""
    chosen = getattr(getattr(req, "link", None), "filename", None)
    name = getattr(req, "name", None)
    if finder is None or not chosen or not name:
        return []
    version = _version(chosen, name)
    if version is None:
        return []
    found = {}
    for link in _all_links(finder, name):
        if link.is_hash_allowed(allowed) and _version(link.filename, name) == version:
            found[link.filename] = describe(link.filename)
    if chosen in found:
        return []
    return sorted(found.values())


def _all_links(finder: Any, name: str) -> list[Any]:
    """Every link pip's finder sees for ``name`` (index pages, find-links),
    whether or not this Python could install it: pip's own search run again on
    a copy of the finder that keeps each link instead of judging it (pip
    itself drops the wheels for other Pythons and platforms)."""
    seen: list[Any] = []

    def keep(link_evaluator: Any, links: Any) -> list[Any]:
        seen.extend(links)
        return []

    probe = copy.copy(finder)
    probe.evaluate_links = keep
    if isinstance(getattr(finder, "_all_candidates", None), dict):
        probe._all_candidates = {}  # pip 26: the finder's memo of this very search
    probe.find_all_candidates(name)
    return seen


def _version(filename: str, name: str) -> Version | None:
    """The version of ``name`` that ``filename`` (a wheel or an sdist) holds;
    None for another project's file or a name pip could not read."""
    try:
        if filename.endswith(".whl"):
            wheel = Wheel(filename)
            project, version = str(wheel.name), wheel.version
        else:
            suffix = next((s for s in SDIST_SUFFIXES if filename.endswith(s)), None)
            if suffix is None or "-" not in filename:
                return None
            project, version = filename[: -len(suffix)].rsplit("-", 1)
        if canonical_name(project) != canonical_name(name):
            return None
        return Version(version)
    except (InvalidVersion, ValueError, InvalidWheelFilename):
        return None


def describe(filename: str) -> str:
    """"the cp311 wheel for manylinux_2_17_x86_64 (<filename>)", "the sdist (<filename>)"."""
    if not filename.endswith(".whl"):
        return f"the sdist ({filename})"
    tags = Wheel(filename).file_tags
    pythons = ".".join(sorted({tag.interpreter for tag in tags}))
    platforms = ", ".join(sorted({tag.platform for tag in tags} - {"any"}))
    where = f" for {platforms}" if platforms else ""
    return f"the {pythons} wheel{where} ({filename})"
