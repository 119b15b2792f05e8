"""Every missing hash in one run, not one run per missing hash.

pip's default resolver stops at its first hash error. A wheel whose hash is
missing can be fetched, hashed and its metadata read without running any of
its code, so its block is recorded and pip goes on resolving
(``Resolver.resolve`` of both resolvers is wrapped). Once pip has resolved
everything, the blocks of what it chose are reported together, and nothing is
installed, downloaded or built. An sdist without a hash ends the collection at
once: its metadata would need its code run. A mismatch stops at once too.

Build dependencies are resolved by a second resolve: in pip's build child,
which leaves its blocks next to the hand-off file for the pip that started it
to show, labelled; or nested in this process (pip 26's in-process installer).
Under the warn policy pip is not stopped: each missing hash is kept and
reported with the rest at the end of the command (common.report_warnings).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from pip._internal.exceptions import HashError, HashErrors

from peep_hook import report
from peep_hook.patches.common import HookError, state, warn_mode

_FORMAT = "peep-hook-missing/1"
_REPORT_NAME = "missing.json"  # beside the hand-off file, in its private directory


class MissingHashesError(HookError):
    """Archives without hashes, each with its block; nothing was installed."""

    def __init__(self, blocks: list[report.Block], stopped: list[str] | None = None) -> None:
        self.blocks = _unique(blocks)
        self.stopped = list(stopped or ())
        super().__init__(report.missing_hashes(self.blocks, self.stopped))


class _Collection:
    """The missing hashes found during one resolve."""

    def __init__(self) -> None:
        self.missing: list[Any] = []  # pip's HashMissing, .req set

    def blocks(self, errors: list[Any] | None = None) -> list[report.Block]:
        return [report.block_for(e.req, e.gotten_hash)
                for e in (self.missing if errors is None else errors)]

    def chosen(self, result: Any) -> list[Any]:
        """Those pip chose to install (a resolver may fetch candidates it then
        drops); all of them if the result cannot be read."""
        try:
            reqs = list(result.all_requirements)
        except (AttributeError, TypeError):
            return list(self.missing)
        ids = {id(r) for r in reqs}
        urls = {r.link.url for r in reqs if getattr(r, "link", None) is not None}
        return [e for e in self.missing
                if id(e.req) in ids or (e.req.link is not None and e.req.link.url in urls)]


_stack: list[_Collection] = []
#: what a nested resolve (pip 26's in-process build installer) left for the
#: build wrapper that started it
_inner: list[MissingHashesError] = []


def collecting() -> bool:
    return bool(_stack) and not warn_mode()


def record(error: Any) -> None:
    """A wheel without a hash: keep its block, let pip go on."""
    _stack[-1].missing.append(error)


def stop_at(error: Any) -> MissingHashesError:
    """An archive without a hash that is not a wheel: collecting ends here."""
    blocks = _stack[-1].blocks() + [report.block_for(error.req, error.gotten_hash)]
    return MissingHashesError(blocks, [report.stopped_at_sdist(error.req)])


def collect_missing_hashes(wrapped, instance, args, kwargs):
    """``Resolver.resolve`` (both resolvers)."""
    if warn_mode():
        return wrapped(*args, **kwargs)
    nested = bool(_stack)
    collection = _Collection()
    _stack.append(collection)
    try:
        try:
            result = wrapped(*args, **kwargs)
        except MissingHashesError as error:
            _finish(error, nested)
            raise  # not reached: _finish raises
        except (HashError, HashErrors) as error:
            # A mismatch (or what pip's legacy resolver gathered): it stops at
            # once, as before; name the missing ones found so far with it.
            if not collection.missing:
                raise
            combined = HashErrors()
            for each in error.errors if isinstance(error, HashErrors) else [error]:
                combined.append(each)
            for each in collection.missing:
                combined.append(each)
            raise combined from None
        missing = collection.chosen(result)
        if missing:
            _finish(MissingHashesError(collection.blocks(missing)), nested)
        return result
    finally:
        _stack.pop()


def _finish(error: MissingHashesError, nested: bool) -> None:
    """Raise ``error``; in a build child or a nested resolve, leave it for the
    pip (or the wrapper) that started the build, which shows it labelled."""
    brief = HookError(report.build_dependencies_missing_brief(error.blocks))
    if nested:
        _inner[:] = [error]
        raise brief
    if state.handoff is not None:
        try:
            _write(error, os.path.join(os.path.dirname(state.handoff), _REPORT_NAME))
        except OSError:
            raise error from None  # shown in the child's output instead
        raise brief
    raise error


def _write(error: MissingHashesError, path: str) -> None:
    body = {"format": _FORMAT, "stopped": error.stopped,
            "blocks": [dataclasses.asdict(b) for b in error.blocks]}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(body, f)


def take_build_report(handoff: str | None) -> MissingHashesError | None:
    """What the build child (or a nested resolve) found missing, once; None
    if it failed for another reason."""
    if _inner:
        return _inner.pop()
    if handoff is None:
        return None
    path = os.path.join(os.path.dirname(handoff), _REPORT_NAME)
    try:
        with open(path, encoding="utf-8") as f:
            body = json.load(f)
        if body.get("format") != _FORMAT:
            return None
        blocks = [report.Block(**{**b, "line": tuple(b["line"]) if b.get("line") else None})
                  for b in body["blocks"]]
        return MissingHashesError(blocks, [str(s) for s in body.get("stopped", ())])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    finally:
        discard_build_report(handoff)


def discard_build_report(handoff: str | None) -> None:
    """Remove the child's report (the hand-off directory is removed after it)."""
    _inner.clear()
    if handoff is not None:
        try:
            os.unlink(os.path.join(os.path.dirname(handoff), _REPORT_NAME))
        except OSError:
            pass


def build_dependencies_missing(for_req: Any, found: MissingHashesError,
                               kind: str) -> MissingHashesError:
    """The error for an sdist whose build dependencies lack hashes: every
    block collected so far in this pip, then those of the build dependencies,
    labelled as such."""
    label = report.building(for_req)
    target = report.where_to_paste(for_req)
    build = [dataclasses.replace(b, build_for=b.build_for or label, target=target,
                                 line=None)
             for b in found.blocks]
    so_far = _stack[-1].blocks() if _stack else []
    return MissingHashesError(so_far + build,
                              [report.stopped_at_build(for_req, kind), *found.stopped])


def _unique(blocks: list[report.Block]) -> list[report.Block]:
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for b in blocks:
        key = (b.requirement, b.sha256, b.build_for)
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out
