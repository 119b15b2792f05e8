"""Every missing hash in one run, not one run per missing hash.

pip's default resolver stops at its first hash error. A wheel whose hash is
missing can be fetched, hashed and its metadata read without running any of
its code, so its block is recorded and pip goes on resolving
(``Resolver.resolve`` of both resolvers is wrapped). Once pip has resolved
everything, the blocks of what it chose are reported together, and nothing is
installed, downloaded or built. An sdist without a hash ends the collection at
once: its metadata would need its code run. A mismatch stops at once too.

The metadata of a wheel without a hash is the attacker's until its hash is
in. So while the collection holds one, no direct reference (a URL or a path)
named in any archive's metadata is followed: pip fetches nothing and reads
no file for it (``make_requirement(s)_from_spec`` of pip's resolvelib factory
leave it out; the guard refuses its fetch, which the legacy resolver gathers
with its hash errors), and the report names it as not fetched. Plainly named
dependencies are still looked up in the user's own indexes and find-links.
Which archive named a requirement is not reliably known (from pip 23.3 an
extra's dependencies come from the requirement, not the archive), so those
a verified archive names wait for the next run too.

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
from pip._internal.req.req_install import InstallRequirement
from pip._internal.utils.misc import redact_auth_from_url
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

from peep_hook.core import messages
from peep_hook.hook.state import HookError, audit_event, state, warn_mode

_FORMAT = "peep-hook-missing/1"
_REPORT_NAME = "missing.json"  # beside the hand-off file, in its private directory


class MissingHashesError(HookError):
    """Archives without hashes, each with its block; nothing was installed."""

    def __init__(self, blocks: list[messages.Block], stopped: list[str] | None = None) -> None:
        self.blocks = _unique(blocks)
        self.stopped = list(stopped or ())
        super().__init__(messages.missing_hashes(self.blocks, self.stopped))


class _Collection:
    """The missing hashes found during one resolve."""

    def __init__(self) -> None:
        self.missing: list[Any] = []  # pip's HashMissing, .req set
        #: direct references named in metadata and not fetched, one line each
        self.not_followed: list[str] = []

    def blocks(self, errors: list[Any] | None = None) -> list[messages.Block]:
        return [messages.block_for(e.req, e.gotten_hash)
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
    blocks = _stack[-1].blocks() + [messages.block_for(error.req, error.gotten_hash)]
    return MissingHashesError(blocks, [messages.stopped_at_sdist(error.req), *_not_followed()])


class NotFollowed(HashError):
    """A direct reference named in metadata while hashes were missing: not
    fetched. A HashError, so that pip's legacy resolver gathers it and goes on."""

    order = 5  # after pip's own
    head = ("peep-hook did not fetch these direct references (URLs or paths) named in "
            "archives' metadata while archives without hashes were being collected:")

    def body(self) -> str:
        return f"    {messages.requirement_text(self.req)}"


def follows(spec: str, comes_from: Any) -> bool:
    """Whether pip may make a requirement of ``spec``, which an archive's
    metadata names; if not, it is recorded as not fetched."""
    if not _unverified_metadata():
        return True
    try:
        named = Requirement(spec)
    except InvalidRequirement:
        return True  # pip refuses it itself
    if not named.url:
        return True
    _record_not_followed(named.name, named.url, comes_from)
    return False


def fetch_refused(req: Any) -> NotFollowed | None:
    """The guard's check (both resolvers): a direct reference named in
    metadata, met while hashes are missing, is not fetched."""
    if (not _unverified_metadata() or req.original_link is None
            or not isinstance(req.comes_from, InstallRequirement)):
        return None
    name = req.req.name if req.req is not None else ""
    _record_not_followed(name, req.original_link.url, req.comes_from)
    error = NotFollowed()
    error.req = req
    return error


def _unverified_metadata() -> bool:
    """Whether pip may be reading metadata no hash vouches for."""
    return collecting() and any(c.missing for c in _stack)


def _record_not_followed(name: str, url: str, comes_from: Any) -> None:
    line = messages.not_fetched(name, redact_auth_from_url(url), comes_from)
    if line not in _stack[-1].not_followed:
        _stack[-1].not_followed.append(line)
        audit_event("refused", reason=f"{line}: a direct reference named in metadata "
                    "while archives without hashes were being collected")


def _not_followed() -> list[str]:
    """The paragraph naming each direct reference this resolve did not fetch."""
    lines = _stack[-1].not_followed if _stack else []
    return [messages.not_followed(lines)] if lines else []


def skip_unverified_direct_references(wrapped, instance, args, kwargs):
    """resolvelib's ``Factory.make_requirement_from_spec`` (pips before 23.3:
    None for none) and ``make_requirements_from_spec`` (an iterator)."""
    spec = args[0] if args else kwargs["specifier"]
    comes_from = args[1] if len(args) > 1 else kwargs.get("comes_from")
    if follows(spec, comes_from):
        return wrapped(*args, **kwargs)
    return None if wrapped.__name__ == "make_requirement_from_spec" else iter(())


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
            errors = error.errors if isinstance(error, HashErrors) else [error]
            if all(isinstance(e, NotFollowed) for e in errors):
                _finish(MissingHashesError(collection.blocks(), _not_followed()), nested)
            if not collection.missing:
                raise
            combined = HashErrors()
            for each in errors:
                combined.append(each)
            for each in collection.missing:
                combined.append(each)
            raise combined from None
        missing = collection.chosen(result)
        if missing or collection.not_followed:
            # Something was left out of this resolve: it cannot be installed.
            _finish(MissingHashesError(collection.blocks(missing or collection.missing),
                                       _not_followed()), nested)
        return result
    finally:
        _stack.pop()


def _finish(error: MissingHashesError, nested: bool) -> None:
    """Raise ``error``; in a build child or a nested resolve, leave it for the
    pip (or the wrapper) that started the build, which shows it labelled."""
    brief = HookError(messages.build_dependencies_missing_brief(error.blocks))
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
        blocks = [messages.Block(**{**b, "line": tuple(b["line"]) if b.get("line") else None})
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
    label = messages.building(for_req)
    target = messages.where_to_paste(for_req)
    build = [dataclasses.replace(b, build_for=b.build_for or label, target=target,
                                 line=None)
             for b in found.blocks]
    so_far = _stack[-1].blocks() if _stack else []
    return MissingHashesError(so_far + build, [messages.stopped_at_build(for_req, kind),
                                               *found.stopped, *_not_followed()])


def _unique(blocks: list[messages.Block]) -> list[messages.Block]:
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for b in blocks:
        key = (b.requirement, b.sha256, b.build_for)
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out
