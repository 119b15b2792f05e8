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
import sys
import sysconfig
from typing import Any, Iterable

import pip
from pip._internal.exceptions import HashError, HashMismatch, HashMissing, HashUnpinned
from pip._internal.utils.hashes import Hashes, MissingHashes

from peep_hook.core import messages
from peep_hook.core.hashed_pins import canonical_name
from peep_hook.core.hashes import looks_incomplete, sha256_of_file
from peep_hook.hook import collect_missing, release_files
from peep_hook.hook.state import (
    HookError,
    audit_event,
    logger,
    refuse,
    refuse_error,
    state,
    warn,
    warn_mode,
)
from peep_hook.startup import seeding


def guard_fetch(wrapped, instance, args, kwargs):
    req = args[0] if args else kwargs["req"]
    state.preparing = req
    not_followed = collect_missing.fetch_refused(req)
    if not_followed is not None:
        # Named in metadata no hash vouches for yet: neither fetched nor read.
        raise not_followed
    if _local_tree(req):
        return Hashes()
    if getattr(instance, "require_hashes", None) is not True:
        _refuse_unchecked_fetch(req)
        return wrapped(*args, **kwargs)
    hashes = _hashes_given(wrapped, args, kwargs, req)
    if hashes is None:
        return Hashes()
    return _CheckedHashes(_allowed(hashes, req), req, getattr(instance, "finder", None))


def _local_tree(req) -> bool:
    """Whether ``req`` is a directory or tox's build of the project: nothing
    is fetched, so nothing is hashed (a directory the user did not name is
    refused)."""
    if req.link is not None and req.link.is_existing_dir() and not req.link.is_vcs:
        # The user's own source tree (pip install ./project): nothing is
        # fetched, so there is nothing to hash. Its build dependencies and its
        # dependencies are still verified. Any other directory (a find-links
        # entry named like an archive, a file: link on an index page, a
        # dependency's or build dependency's URL) is anyone's: refuse it.
        if not named_by_user(req):
            refuse(_directory_refused(req), req)
        return True
    if named_tox_package(req):
        # tox's build of the user's own tree (an sdist, or an editable wheel):
        # the user's code, as ``pip install ./project`` would be.
        logger.info("peep-hook: %s is tox's build of the project under test, in its "
                    "work directory and owned by you: installed without a hash, as "
                    "your own source tree would be.", req.link.file_path)
        return True
    return False


def _refuse_unchecked_fetch(req) -> None:
    """Refuse a fetch pip's hash checking is not in force for."""
    from peep_hook.startup import bootstrap  # loaded already: it loaded these patches

    if bootstrap.command_started():
        refuse(f"peep-hook: refusing to fetch {req.link}: pip's hash checking is "
               "not in force for it.", req)
    else:
        # A program driving pip's internals (pip-tools' pip-compile builds
        # its own preparer): the hook saw none of its requirements files.
        # No pip command prints the refusal: say it in one paragraph, not
        # the program's traceback.
        _one_paragraph_if_uncaught()
        refuse(f"peep-hook: refusing to fetch {req.link}: pip is driven in-process "
               f"by {bootstrap.program()} outside a pip command, so peep-hook cannot "
               "see its requirements files and pip's hash checking is not in force; "
               "nothing is fetched. Run such tools (pip-tools' pip-compile, which only "
               "resolves) where peep-hook is not installed, or with PEEP_HOOK=off.", req)


def _hashes_given(wrapped, args, kwargs, req) -> Hashes | None:
    """The hashes pip's own code gives ``req`` (MissingHashes if none); None
    for a VCS requirement, refused."""
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
        return None
    if not isinstance(hashes, Hashes):
        refuse(f"peep-hook: no hashes to check {req.link} against.", req)
        hashes = MissingHashes()
    return hashes


def _allowed(hashes: Hashes, req) -> dict[str, list[str]]:
    """The digests an archive of ``req`` may have: its own hashes, else its pins."""
    allowed = {} if isinstance(hashes, MissingHashes) else _strong_only(hashes._allowed, req)
    if not req.has_hash_options and req.name:
        # A dependency or build dependency: the hashes given for its name in
        # any requirements or constraints file (on every pip, not only 26.1+).
        known = state.pins.hashes_for(req.name)
        if not known and state.ensurepip_run:
            # ensurepip's own run (python -m venv): the wheels this interpreter
            # bundles, trusted as its own files, by content, never by name.
            known = _bundled_wheel_hashes().get(canonical_name(req.name), [])
        if known:
            allowed = {"sha256": known}
    return allowed or {"sha256": []}


def _one_paragraph_if_uncaught() -> None:
    """If a refusal ends the program uncaught (or as the cause of what does),
    print it as pip would, ``ERROR: ...``; any other error as before."""
    previous = sys.excepthook
    if getattr(previous, "peep_hook", False):
        return

    def hook(kind: Any, value: Any, tb: Any) -> None:
        cause, seen = value, 0
        while cause is not None and not isinstance(cause, HookError) and seen < 20:
            cause, seen = cause.__cause__ or cause.__context__, seen + 1
        if isinstance(cause, HookError):
            sys.stderr.write(f"ERROR: {cause}\n")
        else:
            previous(kind, value, tb)

    hook.peep_hook = True  # type: ignore[attr-defined]
    sys.excepthook = hook


#: The algorithms pip accepts in --hash; only these can make an archive acceptable.
STRONG_HASHES = ("sha256", "sha384", "sha512")


def _strong_only(allowed: dict[str, list[str]], req: Any) -> dict[str, list[str]]:
    """Drop weak URL-fragment hashes (#md5=, #sha1=, #sha224=): pip would accept
    an archive whose md5 matches, even beside a wrong sha256."""
    weak = sorted(name for name, values in allowed.items()
                  if values and name not in STRONG_HASHES)
    if weak:
        logger.warning(
            "peep-hook: ignoring the #%s= hash in the URL of %s: only sha256, sha384 "
            "and sha512 can make an archive acceptable.",
            "=, #".join(weak), messages.requirement_text(req),
        )
    return {name: list(values) for name, values in allowed.items() if name in STRONG_HASHES}


def named_by_user(req: Any) -> bool:
    """Whether ``req`` is a local directory the user named in this command (on
    the command line or as a path line of a requirements file), not one pip
    found on its own. In a build child nothing is: its requirements come from
    an sdist's pyproject.toml."""
    original = getattr(req, "original_link", None)
    return (
        state.handoff is None
        and original is not None
        and req.link is not None
        and directory_key(original) in state.user_directories
        and directory_key(req.link) == directory_key(original)
    )


def named_tox_package(req: Any) -> bool:
    """Whether ``req`` is an archive named on the command line of this pip
    that :func:`is_tox_package` recognised (never in a build child)."""
    original = getattr(req, "original_link", None)
    return (
        state.handoff is None
        and original is not None
        and req.link is not None
        and req.link.is_file
        and directory_key(original) in state.tox_packages
        and directory_key(req.link) == directory_key(original)
    )


#: the file names of what tox builds: an sdist, or a wheel (editable or not)
_TOX_BUILDS = (".tar.gz", ".whl")


def is_tox_package(path: str) -> bool:
    """Whether ``path`` is where tox 4 puts its build of the project under
    test, ``<work dir>/.tmp/package/<n>/<archive>``, with the work dir named
    ``.tox`` or named by tox in TOX_WORK_DIR; and the archive and each of
    those directories belong to this user, and no other user can write to
    them (a group only if it is this user's own)."""
    real = os.path.realpath(path)
    numbered = os.path.dirname(real)
    package = os.path.dirname(numbered)
    tmp = os.path.dirname(package)
    work = os.path.dirname(tmp)
    told = os.environ.get("TOX_WORK_DIR")
    if not (real.endswith(_TOX_BUILDS) and os.path.basename(numbered).isdigit()
            and os.path.basename(package) == "package" and os.path.basename(tmp) == ".tmp"
            and (os.path.basename(work) == ".tox"
                 or (told and os.path.realpath(told) == work))):
        return False
    return all(_only_mine(each) for each in (real, numbered, package, tmp, work))


def _only_mine(path: str) -> bool:
    if not hasattr(os, "geteuid"):
        return False  # no owners to compare (Windows): not recognised
    try:
        st = os.lstat(path)
    except OSError:
        return False
    group_ok = not st.st_mode & 0o020 or st.st_gid == os.getegid()
    return st.st_uid == os.geteuid() and not st.st_mode & 0o002 and group_ok


def directory_key(link: Any) -> str:
    return os.path.normcase(os.path.realpath(link.file_path))


def _directory_refused(req: Any) -> str:
    return (
        f"peep-hook: {messages.requirement_text(req)} resolved to a local directory "
        f"({req.link.file_path}), not an archive. A directory cannot be hash-checked, "
        "so peep-hook installs from a directory only when you name it yourself "
        "(pip install ./project, -e ., a path line in a requirements file). This one "
        "was found by pip (in a --find-links location, on an index page, or as a "
        "dependency's URL): anyone who can write there could have put it there. "
        f"{messages.nothing_done()}"
    )


def is_ensurepip_run(options: Any) -> bool:
    """Whether this pip is ensurepip's: run from the bundled pip wheel that
    ensurepip copied into a new temporary directory, as ``pip install
    --no-index --find-links <that directory>``. Only then may the wheels this
    interpreter bundles stand in for hashes."""
    wheel = os.path.dirname(os.path.dirname(os.path.abspath(getattr(pip, "__file__", "") or "")))
    if not wheel.endswith(".whl") or not os.path.isfile(wheel):
        return False
    find_links = [os.path.realpath(str(link))
                  for link in getattr(options, "find_links", None) or ()]
    return bool(getattr(options, "no_index", False)) and find_links == [
        os.path.realpath(os.path.dirname(wheel))
    ]


def is_virtualenv_seed_run(options: Any) -> bool:
    """Whether this pip is virtualenv's seeder (``virtualenv --seeder pip``):
    run from a pip wheel embedded in an installed virtualenv, with
    ``--no-index``. Then virtualenv's embedded wheels, as its RECORD lists
    them, stand in for hashes (in ``state.bundled``), as ensurepip's do in its
    run. Neither an index nor a find-links directory can make this so: it
    depends on where the running pip itself was loaded from, and only files
    byte-identical to virtualenv's own embedded wheels are accepted."""
    wheel = os.path.dirname(os.path.dirname(os.path.abspath(getattr(pip, "__file__", "") or "")))
    if (not wheel.endswith(".whl") or not os.path.isfile(wheel) or state.handoff is not None
            or not getattr(options, "no_index", False)):
        return False
    wheel = os.path.realpath(wheel)
    embedded = seeding.embedded_wheels(os.path.dirname(wheel))
    if os.path.basename(wheel) not in embedded:
        return False
    state.bundled = {}
    state.bundled_by = "virtualenv embeds for seeding"
    for filename, digest in sorted(embedded.items()):
        project = canonical_name(filename.split("-", 1)[0])
        state.bundled.setdefault(project, []).append(digest)
    return True


def _bundled_wheel_hashes() -> dict[str, list[str]]:
    """sha256 of each wheel this interpreter's ensurepip installs, by project:
    those in ensurepip/_bundled, or where the distribution keeps them
    (Debian's and Fedora's /usr/share/python-wheels: the WHEEL_PKG_DIR build
    setting from Python 3.10, a ``_WHEEL_DIR`` their patches put into
    ensurepip before). Both are set by whoever installed the standard
    library, which is trusted already."""
    if state.bundled is None:
        state.bundled = {}
        directories = [os.path.join(sysconfig.get_paths()["stdlib"], "ensurepip", "_bundled"),
                       sysconfig.get_config_var("WHEEL_PKG_DIR")]
        try:
            import ensurepip  # in ensurepip's own pip run only: cheap, stdlib

            directories += [getattr(ensurepip, "_WHEEL_DIR", None),
                            getattr(ensurepip, "_WHEEL_PKG_DIR", None)]
        except Exception:
            pass
        seen = set()
        for directory in directories:
            if not isinstance(directory, str) or not directory or directory in seen:
                continue
            seen.add(directory)
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

    def __init__(self, allowed: dict[str, list[str]], req: Any, finder: Any = None) -> None:
        super().__init__(allowed)
        self._req = req
        self._finder = finder  # only to name, in a mismatch's hint, the file the block is for
        self._failed = False
        self._path: str | None = None
        self._matched: str | None = None

    def check_against_path(self, path: str) -> None:
        self._failed, self._path, self._matched = False, path, None
        super().check_against_path(path)
        if self._failed:
            return  # warn: reported in _raise, not verified
        digest = self._matched or sha256_of_file(path)  # only for a non-sha256 --hash
        if self._req.name:
            state.verified[canonical_name(self._req.name)] = digest
            state.verified_paths[canonical_name(self._req.name)] = path
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

    def _raise(self, gots: dict[str, Any]) -> None:  # type: ignore[override]
        got = gots["sha256"].hexdigest() if "sha256" in gots else None
        if any(self._allowed.values()):
            error: Any = HashMismatch(self._allowed, gots)
            error.peep_hook_origins = self._origins()
            verdict = "mismatch"
        else:
            error = HashMissing(got or "")
            verdict = "missing"
        error.req = self._req
        path = self._path
        error.peep_hook_incomplete = bool(path) and looks_incomplete(path or "")
        self._failed = True  # never recorded as verified
        audit_event(verdict, self._req, sha256=got)
        if verdict == "mismatch":  # decided: what follows only words the hint
            error.peep_hook_block_files = self._block_files()
        if warn_mode():
            if verdict == "missing":
                warn(block=messages.block_for(error.req, error.gotten_hash))
            else:
                warn(str(error))
            return
        if verdict == "missing" and collect_missing.collecting():
            link = getattr(self._req, "link", None)
            if link is not None and link.is_wheel:
                # Hashed, and its metadata readable without running its code:
                # keep its block and let pip find the others.
                collect_missing.record(error)
                return
            raise collect_missing.stop_at(error)
        raise error

    def _block_files(self) -> list[str]:
        try:
            return release_files.block_files(self._finder, self._req, self)
        except Exception:  # a hint must never change or hide the refusal
            logger.debug("peep-hook could not name the file the block is for", exc_info=True)
            return []

    def _origins(self) -> dict[str, str]:
        """Where each allowed hash came from, when no line this pip read gave
        it (state.origins knows those): a message never shows an expected
        hash without its origin."""
        name = self._req.name
        pin = state.pins.get(name) if name else None
        bundled = (state.bundled or {}).get(canonical_name(name), []) if name else []
        link = getattr(self._req, "original_link", None)
        told = {}
        for hexes in self._allowed.values():
            for hex_digest in hexes:
                if hex_digest in state.origins:
                    continue
                if pin is not None and hex_digest in pin.hashes:
                    handed = (", handed over by the pip that started this build"
                              if state.handoff is not None else "")
                    told[hex_digest] = f"pinned for {name} in {', '.join(pin.origins)}{handed}"
                elif hex_digest in bundled:
                    told[hex_digest] = f"the {name} wheel {state.bundled_by}"
                elif link is not None and link.hash == hex_digest:
                    told[hex_digest] = f"the #{link.hash_name}= part of its URL"
        return told


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
    state.preparing = req  # build dependencies' messages name it
    if not named_by_user(req):
        refuse(_directory_refused(req), req)
        return wrapped(*args, **kwargs)  # warn: pip refuses it in hash mode
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
        return messages.explain_hash_errors(errors, state.origins)
    except Exception:  # a report must never hide pip's own message
        logger.debug("peep-hook could not format its report", exc_info=True)
        return ""
