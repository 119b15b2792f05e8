"""Enforce: every archive pip fetches must match a hash given for it.

The guard runs before each fetch (``RequirementPreparer._get_linked_req_hashes``)
and hands pip the hashes to check the archive against, as pip's own
:class:`Hashes`, so pip's tested checking does the work. It also lets the
user's own source trees through, refuses cached builds, and adds peep-form
reports to pip's hash errors.
"""

from __future__ import annotations

import hashlib
import os
import sysconfig
from typing import Any, Iterable

from pip._internal.exceptions import HashError, HashMismatch, HashMissing, HashUnpinned
from pip._internal.utils.hashes import Hashes, MissingHashes

from peep_hook import report
from peep_hook.hashes import looks_incomplete, sha256_of_file
from peep_hook.patches.common import (
    audit_event,
    logger,
    refuse,
    refuse_error,
    state,
    warn_mode,
)
from peep_hook.pins import canonical_name


def guard_fetch(wrapped, instance, args, kwargs):
    req = args[0] if args else kwargs["req"]
    state.preparing = req
    if req.link is not None and req.link.is_existing_dir() and not req.link.is_vcs:
        # The user's own source tree (pip install ./project): nothing is
        # fetched, so there is nothing to hash. Its build dependencies and its
        # dependencies are still verified.
        return Hashes()
    if getattr(instance, "require_hashes", None) is not True:
        from peep_hook import _bootstrap  # loaded already: it loaded these patches

        if _bootstrap.command_started():
            refuse(f"peep-hook: refusing to fetch {req.link}: pip's hash checking is "
                   "not in force for it.", req)
        else:
            # A program driving pip's internals (pip-tools' pip-compile builds
            # its own preparer): the hook saw none of its requirements files.
            refuse(f"peep-hook: refusing to fetch {req.link}: pip is driven in-process "
                   f"by {_bootstrap.program()} outside a pip command, so peep-hook cannot "
                   "see its requirements files and pip's hash checking is not in force; "
                   "nothing is fetched. Run such tools (pip-tools' pip-compile, which only "
                   "resolves) where peep-hook is not installed, or with PEEP_HOOK=off.", req)
        return wrapped(*args, **kwargs)
    try:
        hashes = wrapped(*args, **kwargs)
    except HashUnpinned as error:
        if req.has_hash_options:
            error.req = req
            refuse_error(error, req)
            hashes = req.hashes(trust_internet=False)
        else:
            # No hash of its own and no pin: the pins below may still cover it;
            # if not, it is fetched, hashed and refused as missing, so the
            # report can show the block to paste.
            hashes = MissingHashes()
    except HashError as error:  # VCS: no hash can cover a repository
        error.req = req
        refuse_error(error, req)
        return Hashes()
    if not isinstance(hashes, Hashes):
        refuse(f"peep-hook: no hashes to check {req.link} against.", req)
        hashes = MissingHashes()
    allowed = {} if isinstance(hashes, MissingHashes) else dict(hashes._allowed)
    if not req.has_hash_options and req.name:
        # A dependency or build dependency: the hashes given for its name in
        # any requirements or constraints file (on every pip, not only 26.1+);
        # failing those, the wheels this interpreter bundles for ensurepip,
        # which `python -m venv` installs (trusted as the interpreter's own
        # files: by content, never by name).
        known = state.pins.hashes_for(req.name) or _bundled_wheel_hashes().get(
            canonical_name(req.name), []
        )
        if known:
            allowed = {"sha256": known}
    return _CheckedHashes(allowed or {"sha256": []}, req)


def _bundled_wheel_hashes() -> dict[str, list[str]]:
    """sha256 of each wheel this interpreter's ensurepip installs, by project:
    those in ensurepip/_bundled, or where the distribution keeps them
    (WHEEL_PKG_DIR: Debian's and Fedora's /usr/share/python-wheels)."""
    if state.bundled is None:
        state.bundled = {}
        directories = [os.path.join(sysconfig.get_paths()["stdlib"], "ensurepip", "_bundled")]
        if sysconfig.get_config_var("WHEEL_PKG_DIR"):
            directories.append(sysconfig.get_config_var("WHEEL_PKG_DIR"))
        for directory in directories:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            for filename in names:
                if filename.endswith(".whl"):
                    project = canonical_name(filename.split("-", 1)[0])
                    digest = sha256_of_file(os.path.join(directory, filename))
                    state.bundled.setdefault(project, []).append(digest)
    return state.bundled


class _CheckedHashes(Hashes):
    """pip's Hashes for one requirement: audited, recording which archive
    matched, and under warn reporting a failure instead of raising it. With no
    allowed hash at all it fails as missing, like pip's MissingHashes."""

    def __init__(self, allowed: dict[str, list[str]], req: Any) -> None:
        super().__init__(allowed)
        self._req = req
        self._failed = False

    def check_against_path(self, path: str) -> None:
        self._failed, self._path, self._matched = False, path, None
        super().check_against_path(path)
        if self._failed:
            return  # warn: reported in _raise, not verified
        digest = self._matched or sha256_of_file(path)  # only for a non-sha256 --hash
        if self._req.name:
            state.verified[canonical_name(self._req.name)] = digest
        audit_event("verified", self._req, sha256=digest)

    def check_against_chunks(self, chunks: Iterable[bytes]) -> None:
        # pip's own loop, also keeping the sha256 that matched, so that stacked
        # hashes never cost a second read of the archive.
        gots = {name: hashlib.new(name) for name in self._allowed}
        for chunk in chunks:
            for digest in gots.values():
                digest.update(chunk)
        for name, got in gots.items():
            if got.hexdigest() in self._allowed[name]:
                self._matched = gots["sha256"].hexdigest() if "sha256" in gots else None
                return
        self._raise(gots)

    def _raise(self, gots: dict[str, Any]) -> None:
        got = gots["sha256"].hexdigest() if "sha256" in gots else None
        if any(self._allowed.values()):
            error: HashError = HashMismatch(self._allowed, gots)
            verdict = "mismatch"
        else:
            error = HashMissing(got)
            verdict = "missing"
        error.req = self._req
        path = getattr(self, "_path", None)
        error.peep_hook_incomplete = bool(path) and looks_incomplete(path)
        self._failed = True
        audit_event(verdict, self._req, sha256=got)
        if warn_mode():
            logger.warning("%s\n(peep-hook policy is warn: strict would stop here; "
                           "going on.)", error)
            return
        raise error


def editable_source_tree(wrapped, instance, args, kwargs):
    req = args[0] if args else kwargs["req"]
    link = req.link
    if link is None or link.is_vcs or not link.is_existing_dir():
        if warn_mode():
            refuse(f"peep-hook: {req} cannot be hash-checked (version control).", req)
            instance.require_hashes = False
            try:
                return wrapped(*args, **kwargs)
            finally:
                instance.require_hashes = True
        return wrapped(*args, **kwargs)  # pip refuses these in hash mode
    # pip install -e ./project: the user's own tree, not fetched. pip refuses
    # every editable in hash-checking mode; lift that for this one call only.
    # Its build dependencies stay verified (they are checked separately).
    instance.require_hashes = False
    try:
        return wrapped(*args, **kwargs)
    finally:
        instance.require_hashes = True


def no_cached_builds(wrapped, instance, args, kwargs):
    # pip 23.1+ trusts a wheel it built earlier from a verified sdist without
    # hashing the wheel itself. A cached build is just a file on disk that
    # anyone with access to the cache can change: never use one.
    return None


def explain_hash_error(wrapped, instance, args, kwargs):
    return wrapped(*args, **kwargs) + _explain([instance])


def explain_hash_errors(wrapped, instance, args, kwargs):
    return wrapped(*args, **kwargs) + _explain(instance.errors)


def _explain(errors) -> str:
    try:
        return report.explain_hash_errors(errors, state.origins)
    except Exception:  # a report must never hide pip's own message
        logger.debug("peep-hook could not format its report", exc_info=True)
        return ""
