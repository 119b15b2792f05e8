"""Reinstall: what is already installed stays only if its record is a hash given now.

pip trusts whatever is installed ("Requirement already satisfied"). Each wheel
peep-hook installs gets a record of the archive's verified hash
(:mod:`peep_hook.core.install_record`). An installed distribution satisfies a
requirement only if that record is one of the hashes given for it now, or, for
a URL or path requirement, the archive verified in this run. Otherwise pip
reinstalls it from the archive it verifies now, as ``--force-reinstall`` would
for that one requirement, and says so in one line; only where pip installs:
with ``--prefix`` or ``--root`` the running environment's copy stays and the
verified one is installed there. It is never adopted
without reinstalling (comparing installed files with a wheel's RECORD would
miss what pip itself adds: scripts, byte code, INSTALLER).

* default resolver (``resolvelib.resolver.Resolver.resolve``): while pip
  resolves, its factory's view of what is installed hides each such
  distribution, so pip fetches and verifies an archive for it instead of
  choosing the installed one; afterwards the requirement is marked to
  replace it (with the ``--user`` rules of ``Factory.get_dist_to_uninstall``).
  URL and path requirements are hidden until their archive is verified, then
  kept if it is the one they were installed from.
* legacy resolver (``prepare_installed_requirement``, where it skips an
  installed requirement): the skip becomes a fetch of the archive, checked
  like any other, and a reinstall.

A dependency that no file names (no line, no hash) is treated as plain pip
treats it: nothing the user did not ask for changes version. With a record,
it stands as installed (it was verified when it was installed). Without one
(installed before peep-hook), pip resolves with it as it is, then it is
reinstalled from a verified archive of the version installed, never the
newest, so any block shows that version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pip._internal.exceptions import DistributionNotFound
from pip._internal.locations import get_scheme
from pip._internal.req.constructors import install_req_from_line
from pip._internal.utils.misc import redact_auth_from_url
from pip._vendor.packaging.version import InvalidVersion, Version

from peep_hook.core import install_record, messages
from peep_hook.core.hashed_pins import canonical_name
from peep_hook.core.hashes import sha256_of_file
from peep_hook.hook.state import logger, refuse, signature, state

try:  # pips before 22 hand out pkg_resources distributions, without in_usersite
    from pip._internal.utils.misc import (  # type: ignore[attr-defined]
        dist_in_usersite as _dist_in_usersite,
    )
except ImportError:
    _dist_in_usersite = None

NO_RECORD = "installed before peep-hook or by another tool (no record of a verified archive)"
#: not announced: fetching it fails as missing a hash, and that report says what to do
NO_HASH = "no requirements or constraints file gives a hash for it"


def record_verified_archive(wrapped, instance, args, kwargs):
    bound = signature(wrapped).bind(*args, **kwargs).arguments
    name, wheel_path, scheme = bound["name"], bound["wheel_path"], bound["scheme"]
    # Said when it happens: a run that stops before installing replaced nothing.
    why = _session.reinstalling.pop(canonical_name(name), None)
    if why is not None:
        logger.info("%s", why)
    result = wrapped(*args, **kwargs)
    digest = state.verified.get(canonical_name(name))
    if digest is not None:
        install_record.write_record(name, wheel_path, (scheme.purelib, scheme.platlib), digest)
        _keep_if_built(canonical_name(name), wheel_path, digest)
    return result


def _keep_if_built(name: str, wheel_path: str, digest: str) -> None:
    """A wheel pip built from the verified sdist: keep it for ``verify --deep``
    (:func:`peep_hook.core.install_record.keep_built_wheel`). A wheel pip downloaded is
    the verified archive itself: nothing to keep (and not hashed again)."""
    if state.verified_paths.get(name, "").endswith(".whl"):
        return
    if sha256_of_file(wheel_path) == digest:
        return  # the verified archive, hashed without its path (pip's chunks)
    try:
        install_record.keep_built_wheel(wheel_path, digest)
    except OSError as exc:
        # The install itself is sound; only --deep will lack this wheel (and say so).
        logger.warning("peep-hook: cannot keep the wheel built from %s's verified sdist "
                       "in %s (%s): verify --deep cannot check it against that sdist",
                       name, install_record.built_wheels_dir(), exc.strerror or exc)


# -- the decision --------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether an installed distribution may stand in for a requirement."""

    #: why it must be reinstalled; None: it may stand (unless pending)
    reason: str | None
    #: a URL or path requirement with a record: decided once its archive is verified
    pending: bool = False
    #: a dependency no file names, without a record: reinstall the version installed
    same_version: bool = False


class _Session:
    def __init__(self) -> None:
        self.resolving = False  # inside the default resolver's resolve()
        #: name -> the line saying why it is reinstalled, logged as it is installed
        self.reinstalling: dict[str, str] = {}
        self.records: dict[tuple[Any, str, str], str | None] = {}
        #: left installed while the default resolver resolves, reinstalled after it
        self.same_version: set[str] = set()


_session = _Session()


def _record(dist: Any, name: str) -> str | None:
    location, version = getattr(dist, "location", None), str(getattr(dist, "version", ""))
    key = (location, name, version)
    if key not in _session.records:
        _session.records[key] = install_record.read_record(location, name, version)
    return _session.records[key]


def judge(name: str, dist: Any, own_hashes: list[str] | None, archive: bool,
          named: bool = True) -> Verdict:
    """Decide before anything is fetched. ``own_hashes``: the requirement's own
    sha256 hashes (else those the files pin for the name); ``archive``: it
    names a URL or a local archive; ``named``: a line (or the command line)
    names it, not only another distribution's dependencies."""
    record = _record(dist, name)
    expected = own_hashes or state.pins.hashes_for(name)
    unnamed = not named and not expected
    if record is None:
        return Verdict(NO_RECORD, same_version=unnamed)
    if archive:
        return Verdict(None, pending=True)
    if unnamed:
        return Verdict(None)  # verified when installed, and no file asks for another
    if record.lower() in (h.lower() for h in expected):
        return Verdict(None)
    if not expected:
        return Verdict(NO_HASH)
    return Verdict(f"installed from an archive ({messages.peep_line(record)}) that is not "
                   "among the hashes given for it now")


def _judge_archive(name: str, dist: Any) -> str | None:
    """After the archive of a URL or path requirement is verified: why the
    installed one must go, or None if it came from this very archive."""
    record = _record(dist, name)
    if record is None:
        return NO_RECORD
    digest = state.verified.get(name)
    if digest == record:
        return None
    if digest is None:
        return ("the archive fetched now was not verified, so it may not be the one "
                "it was installed from")
    return "the archive verified now is not the one it was installed from"


def _kind(req: Any) -> tuple[str, Any]:
    """("tree", link) for the user's own source tree (pip reinstalls those
    anyway; not hashed) or VCS, ("archive", link) for a URL or path to an
    archive, ("index", None) for a requirement by name."""
    link = getattr(req, "original_link", None)
    if link is None:
        return "index", None
    if getattr(req, "editable", False) or link.is_vcs or link.is_existing_dir():
        return "tree", link
    return "archive", link


def _own_sha256(req: Any) -> list[str]:
    return list(((getattr(req, "hash_options", None) or {}).get("sha256")) or ())


def _announce(name: str, dist: Any, link: Any, reason: str) -> None:
    if reason == NO_HASH:
        return
    shown = _shown(dist, name)
    where = f" from {redact_auth_from_url(link.url_without_fragment)}" if link is not None else ""
    _session.reinstalling[name] = (
        f"peep-hook: reinstalling {shown}=={getattr(dist, 'version', '?')}{where}: {reason}")


def _in_usersite(dist: Any) -> bool:
    flag = getattr(dist, "in_usersite", None)
    if isinstance(flag, bool):
        return flag
    return bool(_dist_in_usersite is not None and _dist_in_usersite(dist))


def _in_install_scheme(dist: Any) -> bool:
    """Whether ``dist`` lives where this pip installs. With ``--prefix`` or
    ``--root`` pip installs elsewhere yet counts what the running environment
    holds: replacing it there would take it out of that environment."""
    options = state.options
    prefix = getattr(options, "prefix_path", None)
    root = getattr(options, "root_path", None)
    if not prefix and not root:
        return True  # the running environment; --user: pip's own rules
    scheme = get_scheme("", user=False, home=None, root=root,
                        isolated=bool(getattr(options, "isolated_mode", False)), prefix=prefix)
    location = getattr(dist, "location", None)
    return location is not None and _same_path(location) in {
        _same_path(scheme.purelib), _same_path(scheme.platlib)}


def _same_path(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _same_version(dist: Any, version: Any) -> bool:
    try:
        return Version(str(getattr(dist, "version", ""))) == Version(str(version))
    except InvalidVersion:
        return str(getattr(dist, "version", "")) == str(version)


# -- default resolver ----------------------------------------------------------


class _RootFacts:
    """What the requirements pip resolves say about each name."""

    def __init__(self, root_reqs: Any) -> None:
        self.own: dict[str, list[str]] = {}
        self.archives: set[str] = set()
        self.trees: set[str] = set()
        self.named: set[str] = set()
        for req in root_reqs:
            if not req.name or not req.match_markers():
                continue  # pip ignores a line whose marker excludes it; so do its hashes
            name = canonical_name(req.name)
            self.named.add(name)
            kind, _ = _kind(req)
            if kind == "tree":
                self.trees.add(name)
            elif kind == "archive":
                self.archives.add(name)
            own = _own_sha256(req)
            if own and not req.constraint:
                # Several lines for one name: pip accepts only what all allow.
                self.own[name] = ([h for h in self.own[name] if h in own]
                                  if name in self.own else own)

    def judge(self, name: str, dist: Any) -> Verdict:
        if name in self.trees:
            return Verdict(None)  # the user's own tree: pip reinstalls it anyway
        return judge(name, dist, self.own.get(name), name in self.archives,
                     named=name in self.named)


class _Vetted(dict):  # type: ignore[type-arg]
    """pip's name -> installed distribution map, without the distributions
    peep-hook cannot vouch for. Judged lazily: only names pip asks about."""

    def __init__(self, dists: dict[str, Any], facts: _RootFacts) -> None:
        super().__init__(dists)
        self._facts = facts
        self._judged: set[str] = set()
        self.hidden: dict[str, tuple[Any, Verdict]] = {}
        #: left for pip to choose as installed, then reinstalled at that version
        self.same_version: dict[str, Any] = {}

    def _hides(self, name: Any) -> bool:
        if name not in self._judged:
            self._judged.add(name)
            dist = super().__getitem__(name)
            verdict = self._facts.judge(name, dist)
            if verdict.same_version:
                self.same_version[name] = dist
                _session.same_version.add(name)
            elif verdict.reason is not None or verdict.pending:
                self.hidden[name] = (dist, verdict)
        return name in self.hidden

    def __getitem__(self, name: Any) -> Any:
        dist = super().__getitem__(name)
        if self._hides(name):
            raise KeyError(name)
        return dist

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) and not self._hides(name)

    def get(self, name: Any, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default


class _Named:
    """What ``Factory.get_dist_to_uninstall`` reads of a candidate."""

    def __init__(self, name: str) -> None:
        self.name = self.project_name = name


def reinstall_unverified(wrapped, instance, args, kwargs):
    factory = getattr(instance, "factory", None)
    dists = getattr(factory, "_installed_dists", None)
    if not isinstance(dists, dict):
        refuse("peep-hook cannot see which distributions this pip considers installed "
               "(Factory._installed_dists has changed), so it cannot check them.")
        return wrapped(*args, **kwargs)
    if not dists or factory.force_reinstall:
        # Nothing counts as installed (--ignore-installed, --target, pip
        # download, pip wheel), or pip reinstalls everything anyway.
        return wrapped(*args, **kwargs)
    root_reqs = signature(wrapped).bind(*args, **kwargs).arguments["root_reqs"]
    vetted = _Vetted(dists, _RootFacts(root_reqs))
    factory._installed_dists = vetted
    _session.resolving = True
    try:
        req_set = wrapped(*args, **kwargs)
    finally:
        factory._installed_dists = dists
        _session.resolving = False
    if vetted.hidden:
        _replace_hidden(instance, factory, vetted.hidden, req_set)
    if vetted.same_version:
        _reinstall_same_version(instance._result, factory, vetted.same_version, req_set)
    return req_set


def _reinstall_same_version(result: Any, factory: Any, dists: dict[str, Any],
                            req_set: Any) -> None:
    """Dependencies no file names, installed before peep-hook: where pip kept
    the installed one, reinstall that version from an archive verified now."""
    for name, dist in dists.items():
        candidate = result.mapping.get(name)
        if candidate is None or candidate.get_install_requirement() is not None:
            continue  # not needed, or pip needed another version: it verifies that one
        if factory.get_dist_to_uninstall(_Named(name)) is None:
            continue  # --user over a distribution outside the user site: pip shadows it
        ireq = install_req_from_line(f"{_shown(dist, name)}=={dist.version}",
                                     comes_from=_dependent(result, name))
        if not _link_same_version(factory._finder, ireq, dist):
            continue
        ireq.should_reinstall = True
        logger.info("peep-hook: %s %s: %s; fetching that version to verify it and "
                    "reinstall it", _shown(dist, name), dist.version, NO_RECORD)
        _announce(name, dist, None, NO_RECORD)
        factory.preparer.prepare_linked_requirement(ireq)
        req_set.add_named_requirement(ireq)


def _dependent(result: Any, name: str) -> Any:
    """The nearest requirement pip installs that depends on ``name``, for
    messages (``# via``) and where its block goes."""
    seen, queue = {name}, [name]
    while queue:
        for parent in result.graph.iter_parents(queue.pop(0)):
            if parent is None or parent in seen:
                continue
            seen.add(parent)
            candidate = result.mapping.get(parent)
            ireq = candidate.get_install_requirement() if candidate is not None else None
            if ireq is not None:
                return ireq
            queue.append(parent)
    return None


def _link_same_version(finder: Any, req: Any, dist: Any) -> bool:
    """Point ``req`` at an archive of the version ``dist`` has; refuse if none."""
    found = finder.find_requirement(_pinned_to(req, dist), upgrade=False)
    if found is None:
        refuse(f"peep-hook: {_shown(dist, req.name)} {dist.version} is installed "
               f"({NO_RECORD}), and no archive of that version is found to reinstall it "
               "from, verified. Pin the version you want, with its hash, in a "
               "requirements file, or install into a fresh virtualenv.", req)
        return False
    req.link = found.link
    if hasattr(req, "set_source_link"):  # pip 26.3+ records the link it chose
        req.set_source_link(req.link)
    return True


def _pinned_to(req: Any, dist: Any) -> Any:
    if str(getattr(req, "specifier", "")) == f"=={dist.version}":
        return req
    return install_req_from_line(f"{req.name}=={dist.version}")


def _shown(dist: Any, name: str) -> str:
    return str(getattr(dist, "raw_name", None) or getattr(dist, "project_name", None) or name)


def _replace_hidden(resolver: Any, factory: Any, hidden: dict[str, tuple[Any, Verdict]],
                    req_set: Any) -> None:
    """pip resolved as if the hidden distributions were not installed, so it
    would install over them without uninstalling: mark each to be replaced,
    or, for a URL or path requirement whose archive is the one installed,
    keep it as pip would have."""
    versions = {}
    for candidate in resolver._result.mapping.values():
        base = canonical_name(str(getattr(candidate, "project_name", None)
                                  or candidate.name).split("[", 1)[0])
        versions[base] = candidate.version
    requirements = req_set.requirements
    for name, (dist, verdict) in hidden.items():
        ireq = requirements.get(name)
        if ireq is None or ireq.constraint:
            continue  # not needed after all
        if factory.get_dist_to_uninstall(_Named(name)) is None:
            continue  # --user over a distribution outside the user site: pip shadows it
        same = _same_version(dist, versions.get(name))
        kind, link = _kind(ireq)
        if kind == "tree":
            ireq.should_reinstall = True  # as pip does for source trees
            continue
        reason = _judge_archive(name, dist) if kind == "archive" else verdict.reason
        if reason is None:
            if same and (link is None or not (link.is_file and not link.is_wheel)):
                del requirements[name]  # the installed one is this archive: keep it
            else:
                ireq.should_reinstall = True  # a new version, or a local sdist (pip's rule)
            continue
        if not _in_install_scheme(dist):
            # Installed elsewhere: the verified archive goes where pip
            # installs; pip's own rule (a new version) alone uninstalls.
            ireq.should_reinstall = not same
            continue
        ireq.should_reinstall = True
        if same:
            _announce(name, dist, link, reason)


# -- legacy resolver -----------------------------------------------------------


def replace_in_target_dir(wrapped, instance, args, kwargs):
    """``InstallCommand._handle_target_dir``: without ``--upgrade`` pip keeps
    what a ``--target`` directory already holds, so old code would stay with
    exit 0. Every archive installed there was verified in this run: let its
    files replace what was there, as ``--upgrade`` would."""
    bound = signature(wrapped).bind(*args, **kwargs)
    if not bound.arguments["upgrade"]:
        logger.info("peep-hook: replacing what %s already holds with the files of the "
                    "archives verified now (as --upgrade would)", bound.arguments["target_dir"])
        bound.arguments["upgrade"] = True
    return wrapped(*bound.args, **bound.kwargs)


def check_installed(wrapped, instance, args, kwargs):
    bound = signature(wrapped).bind(*args, **kwargs).arguments
    req = bound["req"]
    dist = req.satisfied_by
    if dist is None or not req.name:
        return wrapped(*args, **kwargs)
    name = canonical_name(req.name)
    kind, link = _kind(req)
    if kind == "tree":
        return wrapped(*args, **kwargs)  # never skipped as installed by pip
    dependency = not isinstance(getattr(req, "comes_from", None), (str, type(None)))
    verdict = judge(name, dist, _own_sha256(req), kind == "archive", named=not dependency)
    if verdict.reason is None and not verdict.pending:
        return wrapped(*args, **kwargs)
    if _session.resolving and name in _session.same_version:
        return wrapped(*args, **kwargs)  # reinstalled at this version once resolved
    if _session.resolving:
        # The default resolver hides every such distribution: reaching here
        # means this pip builds installed candidates some other way.
        expected = _own_sha256(req) or state.pins.hashes_for(name)
        refuse(messages.installed_unverified(req, dist, expected, _record(dist, name)), req)
        return wrapped(*args, **kwargs)
    return _reinstall_legacy(instance, req, name, dist, link, verdict, wrapped, args, kwargs)


def _reinstall_legacy(preparer: Any, req: Any, name: str, dist: Any, link: Any,
                      verdict: Verdict, wrapped, args, kwargs):
    """What the legacy resolver does for --force-reinstall, for this one
    requirement: fetch (verified), then replace what is installed."""
    # Replaced only where pip installs (the --user rules, --prefix, --root);
    # elsewhere the verified archive is installed beside it.
    replaces = (not preparer.use_user_site or _in_usersite(dist)) and _in_install_scheme(dist)
    if verdict.reason is not None and replaces:
        _announce(name, dist, link, verdict.reason)
    if replaces:
        req.should_reinstall = True
    req.satisfied_by = None
    if req.link is None and verdict.same_version:
        if not _link_same_version(preparer.finder, req, dist):
            req.satisfied_by = dist  # warn: kept as it is
            return wrapped(*args, **kwargs)
    elif req.link is None:
        found = preparer.finder.find_requirement(req, upgrade=False)
        if found is None:
            raise DistributionNotFound(f"No matching distribution found for {req}")
        req.link = found.link
        if hasattr(req, "set_source_link"):  # pip 26.3+ records the link it chose
            req.set_source_link(req.link)
    prepared = preparer.prepare_linked_requirement(req)
    if verdict.pending:
        reason = _judge_archive(name, dist)
        if reason is None:  # installed from this very archive: keep it
            req.should_reinstall = False
            req.satisfied_by = dist
            return wrapped(*args, **kwargs)
        if replaces:
            _announce(name, dist, link, reason)
    return prepared
