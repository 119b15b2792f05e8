"""Every contact with pip's internals: the patch targets, their checks, the wrappers.

Imported only when a pip command that fetches archives starts (by
:mod:`peep_hook._bootstrap`), before pip does anything else.
The hook feeds pip's own hash-checking mode rather than re-implementing it:

* ``req_file.get_file_content``: record the raw text of every requirements
  and constraints file pip reads (pip drops comments before parsing);
* ``req_file.handle_requirement_line``: add the peep hashes above a line to
  that requirement's ``--hash`` options;
* ``RequirementCommand.get_requirements``: switch on ``require_hashes`` for
  every command that resolves requirements, and refuse unpinned hashed ones;
* ``RequirementPreparer._get_linked_req_hashes``: the guard, called before
  every archive is fetched; refuses unless hash checking is in force;
* ``install_requirements`` of each build environment: pin build
  dependencies to hashed versions and hand the pins to pip's build child
  (or to pip 26's in-process installer), which pip never hash-checks itself;
* ``WheelCache.get_cache_entry``: never reuse a wheel pip built earlier;
* ``RequirementPreparer.prepare_editable_requirement``: let the user's own
  source tree (``-e .``) through, its build dependencies still verified;
* ``RequirementPreparer.prepare_installed_requirement``: check what is
  already installed against the recorded hash of its archive;
* ``install_wheel``: record that hash in the installed ``.dist-info``;
* ``HashError.__str__`` / ``HashErrors.__str__``: add peep-form reports.

Each target is looked up and its parameters checked before anything is
patched; if one is missing or changed, pip refuses to fetch anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import os
import re
import sysconfig
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Callable, Iterable, Iterator

import pip
import wrapt
from pip._internal.exceptions import (
    HashError,
    HashErrors,
    HashMismatch,
    HashMissing,
    HashUnpinned,
    InstallationError,
    PipError,
)
from pip._internal.req.constructors import install_req_from_line
from pip._internal.utils.hashes import Hashes, MissingHashes
from pip._internal.utils.misc import redact_auth_from_url
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

from peep_hook import audit, installed, policy, report, reqfile
from peep_hook.hashes import looks_incomplete, sha256_of_file
from peep_hook.pins import HANDOFF_ENV, HandoffError, Pins, canonical_name
from peep_hook.support import NEWEST_TESTED, OLDEST_SUPPORTED, version_tuple

logger = logging.getLogger("peep_hook")


Wrapper = Callable[[Callable[..., Any], Any, tuple, dict], Any]


class HookError(InstallationError):
    """peep-hook refuses: pip prints ``ERROR: <message>`` and exits with 1."""


class _State:
    """What the hook learns while one pip command runs."""

    def __init__(self) -> None:
        self.files: dict[str, reqfile.FileHashes] = {}
        self.origins: dict[str, report.Origin] = {}
        self.preparing: Any = None  # the requirement whose archive is being prepared
        self.notices_given = False
        #: hashes by project name, from every hashed line of every file read
        self.pins = Pins()
        #: set in a build child: the parent's pins, the only ones it may use
        self.handoff: str | None = None
        #: project name -> sha256 of the archive verified for it in this run
        self.verified: dict[str, str] = {}
        self.policy = policy.Policy(policy.STRICT, "default")
        self.bundled: dict[str, list[str]] | None = None
        self.audit: audit.AuditLog | None = None


# -- refusing (strict) or reporting (warn), and the audit log ------------------


def _warn_mode() -> bool:
    return _state.policy.mode == policy.WARN


def _refuse(message: str, req: Any = None) -> None:
    """Stop pip with ``message`` (strict), or report it and go on (warn)."""
    _audit("refused", req, reason=message)
    if _warn_mode():
        logger.warning("%s\n(peep-hook policy is warn: strict would stop here; going on.)",
                       message)
        return
    raise HookError(message)


def _refuse_error(error: PipError, req: Any = None, verdict: str = "refused") -> None:
    """Raise pip's own error (strict), or log it and go on (warn)."""
    _audit(verdict, req, reason=type(error).__name__)
    if _warn_mode():
        logger.warning("%s\n(peep-hook policy is warn: strict would stop here; going on.)",
                       error)
        return
    raise error


def _audit(verdict: str, req: Any = None, **fields: Any) -> None:
    log = _state.audit
    if log is None:
        return
    link = getattr(req, "link", None)
    comes_from = getattr(req, "comes_from", None)
    where = report.source_line(comes_from)
    try:
        log.record(
            verdict,
            requirement=report.requirement_text(req) if req is not None else None,
            file=where[0] if where else None,
            line=where[1] if where else None,
            url=redact_auth_from_url(link.url_without_fragment) if link is not None else None,
            **fields,
        )
    except audit.AuditError as exc:
        if _warn_mode():
            logger.warning("peep-hook: %s", exc)
        else:
            raise HookError(f"peep-hook: {exc}; refusing, as the audit log is required.")


_state = _State()


# -- the wrappers --------------------------------------------------------------


def _read_requirements_file(wrapped, instance, args, kwargs):
    url, text = wrapped(*args, **kwargs)
    source = args[0] if args else kwargs["url"]
    scanned = reqfile.scan(text)
    if scanned.malformed:
        _refuse(report.malformed_hash_lines(source, scanned.malformed))
    for lineno, comment in scanned.near_misses:
        logger.warning(
            "peep-hook: %s line %s is not a peep hash line (write '# sha256: <value>'): %s",
            source, lineno, comment,
        )
    for orphan in scanned.orphans:
        logger.warning(
            "peep-hook: %s line %s: this hash is not directly above a requirement "
            "and applies to nothing", source, orphan.lineno,
        )
    _state.files[source] = scanned
    return url, text


def _add_peep_hashes(wrapped, instance, args, kwargs):
    parsed = wrapped(*args, **kwargs)
    line = args[0] if args else kwargs["line"]
    scanned = _state.files.get(line.filename)
    if scanned is None:
        _refuse(f"peep-hook did not see the text of {line.filename}, so it cannot "
                "check its hashes.")
        return parsed
    options = parsed.options
    hashes = options.get("hashes") if options else None
    for hex_digest in (hashes or {}).get("sha256", ()):
        _state.origins.setdefault(
            hex_digest,
            report.Origin(report.pip_option(hex_digest), line.filename, line.lineno),
        )
    block = scanned.hashes_for(line.lineno)
    if block:
        if options is None:  # pip < 24 leaves it None on -e lines
            options = parsed.options = {}
        sha256 = options.setdefault("hashes", {}).setdefault("sha256", [])
        for hash_line in block:
            if hash_line.hex is None:
                continue  # malformed (only reached under warn): matches nothing
            if hash_line.hex not in sha256:
                sha256.append(hash_line.hex)
            _state.origins[hash_line.hex] = report.Origin(
                f"# sha256: {hash_line.value}", line.filename, hash_line.lineno
            )
    _register_pin(parsed, f"{line.filename}:{line.lineno}")
    return parsed


def _register_pin(parsed: Any, origin: str) -> None:
    hexes = ((parsed.options or {}).get("hashes") or {}).get("sha256")
    if not hexes:
        return
    try:
        requirement = Requirement(parsed.requirement)
    except InvalidRequirement:
        return  # a URL or path: its hashes are checked against its own link
    if requirement.url:
        return
    specs = list(requirement.specifier)
    exact = specs[0].version if len(specs) == 1 and specs[0].operator in ("==", "===") else None
    if exact is not None and "*" in exact:
        exact = None
    _state.pins.add(requirement.name, exact, hexes, origin)


def _require_hashes(wrapped, instance, args, kwargs):
    options = args[1] if len(args) > 1 else kwargs["options"]
    _give_notices()
    if getattr(options, "no_require_hashes", False):
        _refuse("peep-hook: --no-require-hashes would switch hash checking off. "
                "To run one command unchecked, set PEEP_HOOK=off instead.")
        options.no_require_hashes = False
    try:
        reqs = wrapped(*args, **kwargs)
    except RecursionError:
        # pips before 24 follow "-r" cycles until the stack runs out.
        raise HookError(
            "peep-hook: the requirements files include each other in a loop (or "
            f"nest too deeply): {', '.join(_state.files) or 'unknown files'}"
        ) from None
    options.require_hashes = True
    if _state.handoff is not None:
        # A build child: resolve dependencies of build dependencies to the
        # versions the parent's files pin.
        reqs = list(reqs) + _pin_constraints()
    unpinned = HashErrors()
    for req in reqs:
        if _needs_pin(req):
            error = HashUnpinned()
            error.req = req
            unpinned.append(error)
    if unpinned:
        _refuse_error(unpinned)
    return reqs


def _pin_constraints() -> list[Any]:
    return [
        install_req_from_line(f"{name}=={version}", comes_from="peep-hook pins",
                              constraint=True)
        for name, version in sorted(_state.pins.exact_pins().items())
    ]


def _needs_pin(req: Any) -> bool:
    # pip 26.1+ accepts a hashed top-level requirement without ==; older pips
    # refuse it. peep-hook refuses it on every pip.
    return (
        req.has_hash_options
        and not req.constraint
        and not req.editable
        and req.original_link is None
        and not req.is_pinned
        and req.match_markers()
    )


def _guard_fetch(wrapped, instance, args, kwargs):
    req = args[0] if args else kwargs["req"]
    _state.preparing = req
    if req.link is not None and req.link.is_existing_dir() and not req.link.is_vcs:
        # The user's own source tree (pip install ./project): nothing is
        # fetched, so there is nothing to hash. Its build dependencies and its
        # dependencies are still verified.
        return Hashes()
    if getattr(instance, "require_hashes", None) is not True:
        _refuse(f"peep-hook: refusing to fetch {req.link}: pip's hash checking is "
                "not in force for it.", req)
        return wrapped(*args, **kwargs)
    try:
        hashes = wrapped(*args, **kwargs)
    except HashUnpinned as error:
        if req.has_hash_options:
            error.req = req
            _refuse_error(error, req)
            hashes = req.hashes(trust_internet=False)
        else:
            # No hash of its own and no pin: the pins below may still cover it;
            # if not, it is fetched, hashed and refused as missing, so the
            # report can show the block to paste.
            hashes = MissingHashes()
    except HashError as error:  # VCS: no hash can cover a repository
        error.req = req
        _refuse_error(error, req)
        return Hashes()
    if not isinstance(hashes, Hashes):
        _refuse(f"peep-hook: no hashes to check {req.link} against.", req)
        hashes = MissingHashes()
    allowed = {} if isinstance(hashes, MissingHashes) else dict(hashes._allowed)
    if not req.has_hash_options and req.name:
        # A dependency or build dependency: the hashes given for its name in
        # any requirements or constraints file (on every pip, not only 26.1+);
        # failing those, the wheels this interpreter bundles for ensurepip,
        # which `python -m venv` installs (trusted as the interpreter's own
        # files: by content, never by name).
        known = _state.pins.hashes_for(req.name) or _bundled_wheel_hashes().get(
            canonical_name(req.name), []
        )
        if known:
            allowed = {"sha256": known}
    return _CheckedHashes(allowed or {"sha256": []}, req)


def _bundled_wheel_hashes() -> dict[str, list[str]]:
    """sha256 of each wheel this interpreter's ensurepip installs, by project:
    those in ensurepip/_bundled, or where the distribution keeps them
    (WHEEL_PKG_DIR: Debian's and Fedora's /usr/share/python-wheels)."""
    if _state.bundled is None:
        _state.bundled = {}
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
                    _state.bundled.setdefault(project, []).append(digest)
    return _state.bundled


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
            _state.verified[canonical_name(self._req.name)] = digest
        _audit("verified", self._req, sha256=digest)

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
        _audit(verdict, self._req, sha256=got)
        if _warn_mode():
            logger.warning("%s\n(peep-hook policy is warn: strict would stop here; "
                           "going on.)", error)
            return
        raise error


def _signature(function: Callable[..., Any]) -> inspect.Signature:
    """inspect.signature, computed once per function (install_wheel runs for
    every wheel installed)."""
    if inspect.ismethod(function):
        return inspect.signature(function)
    cached = _signatures.get(function)
    if cached is None:
        cached = _signatures[function] = inspect.signature(function)
    return cached


_signatures: dict[Any, inspect.Signature] = {}


def _editable_source_tree(wrapped, instance, args, kwargs):
    req = args[0] if args else kwargs["req"]
    link = req.link
    if link is None or link.is_vcs or not link.is_existing_dir():
        if _warn_mode():
            _refuse(f"peep-hook: {req} cannot be hash-checked (version control).", req)
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


def _record_verified_archive(wrapped, instance, args, kwargs):
    result = wrapped(*args, **kwargs)
    bound = _signature(wrapped).bind(*args, **kwargs).arguments
    name, wheel_path, scheme = bound["name"], bound["wheel_path"], bound["scheme"]
    digest = _state.verified.get(canonical_name(name))
    if digest is not None:
        installed.write_record(name, wheel_path, (scheme.purelib, scheme.platlib), digest)
    return result


def _check_installed(wrapped, instance, args, kwargs):
    req = args[0] if args else kwargs["req"]
    dist = req.satisfied_by
    expected = list((req.hash_options or {}).get("sha256", ())) or (
        _state.pins.hashes_for(req.name) if req.name else []
    )
    recorded = installed.read_record(dist.location, req.name, str(dist.version))
    if not expected or recorded is None or recorded not in expected:
        _refuse(report.installed_unverified(req, dist, expected, recorded), req)
    return wrapped(*args, **kwargs)


def _verified_build_dependencies(wrapped, instance, args, kwargs):
    bound = _signature(wrapped).bind(*args, **kwargs)
    requirements = list(bound.arguments.get("requirements") or ())
    if not requirements:
        return wrapped(*args, **kwargs)
    for_req = bound.arguments.get("for_req") or _state.preparing
    installer = getattr(instance, "installer", None)
    in_process = type(installer).__name__ == "InprocessBuildEnvironmentInstaller"
    if type(instance).__name__ == "VenvBuildEnvironment" and not in_process:
        # pip 26.2+ --use-feature venv-isolation: the child pip runs in a fresh
        # venv where the hook does not load, so nothing there would be checked.
        _refuse(report.build_child_unchecked(for_req, requirements), for_req)
        return wrapped(*args, **kwargs)
    pinned, unpinned, conflicts = _pin_build_requirements(requirements)
    if conflicts:
        _refuse(report.build_pin_conflicts(for_req, conflicts), for_req)
        return wrapped(*args, **kwargs)
    bound.arguments["requirements"] = pinned
    if in_process:
        _check_in_process(installer)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(_state.pins.handed_off())
        except OSError as exc:
            _refuse(f"peep-hook: cannot write the pins for pip's build child ({exc}); "
                    "its build dependencies cannot be checked.", for_req)
        try:
            return wrapped(*bound.args, **bound.kwargs)
        except PipError as exc:
            advice = report.build_dependencies_failed(for_req, pinned, unpinned)
            if type(exc).__name__ == "BuildDependencyInstallError":
                # pip 26's in-process installer: the error itself carries the
                # captured output (with our blocks); keep it, add our hint.
                hint = getattr(exc, "hint_stmt", None)
                exc.hint_stmt = f"{hint}\n{advice}" if hint else advice
                raise
            # A child pip: its output, with our blocks, has been shown already.
            _audit("refused", for_req, reason=advice)
            raise HookError(advice) from exc


def _pin_build_requirements(
    requirements: list[str],
) -> tuple[list[str], list[str], list[tuple[str, str, str]]]:
    """Rewrite each build requirement to the exact version the files pin.

    Returns the rewritten list, the names with no hashed pin (left as they
    are: pip then fails on their missing hash and prints the block to add),
    and (requirement, pinned version, origins) for pins that do not satisfy it.
    """
    pinned, unpinned, conflicts = [], [], []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            pinned.append(text)  # pip will refuse it: no hash can cover it
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = _state.pins.exact_version(requirement.name)
        if version is None:
            pinned.append(text)
            unpinned.append(requirement.name)
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            pin = _state.pins.get(requirement.name)
            conflicts.append((text, version, ", ".join(pin.origins if pin else ())))
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        pinned.append(f"{requirement.name}{extras}=={version}")
    return pinned, unpinned, conflicts


def _check_in_process(installer: Any) -> None:
    """pip 26's in-process build installer: a second preparer, hard-coded to
    skip hash checking. Switch checking on and constrain it to the pins."""
    preparer = getattr(installer, "_preparer", None)
    constraints = getattr(installer, "_build_constraints", None)
    if preparer is None or not hasattr(preparer, "require_hashes") or constraints is None:
        _refuse("peep-hook: this pip's in-process build installer has changed shape; "
                "its build dependencies cannot be checked.")
        return
    preparer.require_hashes = True
    installer._build_constraints = (*constraints, *_pin_constraints())


def _no_cached_builds(wrapped, instance, args, kwargs):
    # pip 23.1+ trusts a wheel it built earlier from a verified sdist without
    # hashing the wheel itself. A cached build is just a file on disk that
    # anyone with access to the cache can change: never use one.
    return None


def _explain_hash_error(wrapped, instance, args, kwargs):
    return wrapped(*args, **kwargs) + _explain([instance])


def _explain_hash_errors(wrapped, instance, args, kwargs):
    return wrapped(*args, **kwargs) + _explain(instance.errors)


def _explain(errors) -> str:
    try:
        return report.explain_hash_errors(errors, _state.origins)
    except Exception:  # a report must never hide pip's own message
        logger.debug("peep-hook could not format its report", exc_info=True)
        return ""


def _give_notices() -> None:
    if _state.notices_given:
        return
    _state.notices_given = True
    setting = _state.policy
    if setting.warning:
        logger.warning("peep-hook: %s", setting.warning)
    if setting.mode == policy.WARN:
        logger.warning("peep-hook: policy is warn (%s): hash problems are reported, "
                       "not refused.", setting.source)
    if version_tuple(pip.__version__) > NEWEST_TESTED:
        logger.warning(
            "peep-hook: pip %s is newer than the newest pip tested (%s); its "
            "patch points check out.", pip.__version__, ".".join(map(str, NEWEST_TESTED)),
        )


# -- targets -------------------------------------------------------------------


@dataclass(frozen=True)
class Patch:
    """One patch point: where it is, the parameters the wrapper relies on."""

    module: str
    qualname: str
    params: tuple[str, ...]
    wrapper: Wrapper
    #: also patch every subclass in ``module`` that overrides the method
    subclasses: bool = False
    #: a name some pips bind and others do not: absent is fine
    optional: bool = False

    def sites(self) -> Iterator[tuple[Any, str]]:
        """Yield (owner, attribute) pairs to wrap, after checking each one."""
        where = f"{self.module}.{self.qualname}"
        try:
            module = import_module(self.module)
        except ImportError as exc:
            raise PatchTargetError(f"{self.module} cannot be imported ({exc})") from exc
        *path, attr = self.qualname.split(".")
        if self.optional and not hasattr(module, self.qualname):
            return
        owner: Any = module
        for part in path:
            owner = getattr(owner, part, None)
            if owner is None:
                raise PatchTargetError(f"{where} is missing")
        owners = [owner]
        if self.subclasses:
            owners += [
                cls for cls in vars(module).values()
                if isinstance(cls, type) and cls is not owner
                and issubclass(cls, owner) and attr in vars(cls)
            ]
        for each in owners:
            self._check(each, attr, f"{self.module}.{'.'.join(path + [attr])}"
                        if each is owner else f"{each.__module__}.{each.__qualname__}.{attr}")
            yield each, attr

    def _check(self, owner: Any, attr: str, where: str) -> None:
        function = inspect.getattr_static(owner, attr, None)
        if isinstance(function, wrapt.FunctionWrapper):
            function = function.__wrapped__
        if not inspect.isfunction(function):
            raise PatchTargetError(f"{where} is missing")
        names = [p for p in inspect.signature(function).parameters if p != "self"]
        # Subclass overrides put the parameters in different orders across
        # pips; their wrapper binds by name, so only presence matters there.
        fits = (
            set(self.params) <= set(names) if self.subclasses
            else names[: len(self.params)] == list(self.params)
        )
        if not fits:
            raise PatchTargetError(
                f"{where} has parameters ({', '.join(names)}), "
                f"expected ({', '.join(self.params)}, ...)"
            )


class PatchTargetError(Exception):
    """A patch target is missing or has changed shape."""


PATCHES: tuple[Patch, ...] = (
    Patch("pip._internal.req.req_file", "get_file_content",
          ("url", "session"), _read_requirements_file),
    Patch("pip._internal.req.req_file", "handle_requirement_line",
          ("line", "options"), _add_peep_hashes),
    Patch("pip._internal.cli.req_command", "RequirementCommand.get_requirements",
          ("args", "options", "finder", "session"), _require_hashes),
    Patch("pip._internal.operations.prepare", "RequirementPreparer._get_linked_req_hashes",
          ("req",), _guard_fetch),
    Patch("pip._internal.build_env", "BuildEnvironment.install_requirements",
          ("requirements",), _verified_build_dependencies, subclasses=True),
    Patch("pip._internal.cache", "WheelCache.get_cache_entry",
          ("link", "package_name"), _no_cached_builds),
    Patch("pip._internal.operations.prepare", "RequirementPreparer.prepare_editable_requirement",
          ("req",), _editable_source_tree),
    Patch("pip._internal.operations.prepare", "RequirementPreparer.prepare_installed_requirement",
          ("req", "skip_reason"), _check_installed),
    Patch("pip._internal.operations.install.wheel", "install_wheel",
          ("name", "wheel_path", "scheme"), _record_verified_archive),
    # pips before 26 bind install_wheel into req_install at import time.
    Patch("pip._internal.req.req_install", "install_wheel",
          ("name", "wheel_path", "scheme"), _record_verified_archive, optional=True),
    Patch("pip._internal.exceptions", "HashError.__str__", (), _explain_hash_error),
    Patch("pip._internal.exceptions", "HashErrors.__str__", (), _explain_hash_errors),
)

_originals: dict[tuple[int, str], tuple[Any, str, Any]] = {}


class HookUnavailable(Exception):
    """peep-hook cannot protect this pip; the bootstrap makes pip refuse."""


def activate(config_path: str | None = None) -> None:
    """Check every target, then patch them all; idempotent.

    Raises HookUnavailable, naming what is wrong, if the hook cannot do its
    job in this pip: the bootstrap then stops the command with exit 1.
    """
    if _originals:
        return
    problems = []
    try:
        setting = policy.current(config_path=config_path)
    except policy.ConfigError as exc:
        setting = policy.Policy(policy.STRICT, "default")
        problems.append(str(exc))
    if setting.mode == policy.OFF:
        return
    _state.policy = setting
    if setting.audit_log:
        _state.audit = audit.AuditLog(setting.audit_log, pip.__version__)
        try:
            _state.audit.check_writable()
        except audit.AuditError as exc:
            if setting.mode == policy.STRICT:
                problems.append(f"{exc} (strict mode requires it)")
            _state.audit = None
    handoff = os.environ.get(HANDOFF_ENV)
    if handoff:
        try:
            _state.pins = Pins.read_handoff(handoff)
            _state.handoff = handoff
        except HandoffError as exc:
            problems.append(f"the pins handed over by the parent pip are unusable: {exc}")
    version = version_tuple(pip.__version__)
    if version < OLDEST_SUPPORTED:
        problems.append(f"pip {pip.__version__} is older than the oldest supported "
                        f"({'.'.join(map(str, OLDEST_SUPPORTED))})")
    sites: list[tuple[Any, str, Wrapper]] = []
    for patch in PATCHES:
        try:
            sites.extend((owner, attr, patch.wrapper) for owner, attr in patch.sites())
        except PatchTargetError as exc:
            problems.append(str(exc))
    if problems:
        raise HookUnavailable(
            f"peep-hook cannot protect pip {pip.__version__}: {'; '.join(problems)}. "
            "pip will not install, download or build anything until hashes can "
            "be checked. Use a pip that peep-hook supports (20.3 to "
            f"{'.'.join(map(str, NEWEST_TESTED))}) or a newer peep-hook; "
            "set PEEP_HOOK=off to run one command unchecked."
        )
    for owner, attr, wrapper in sites:
        _originals[(id(owner), attr)] = (owner, attr, inspect.getattr_static(owner, attr))
        wrapt.wrap_function_wrapper(owner, attr, wrapper)
    _declare_eager_imports()


def deactivate() -> None:
    """Undo :func:`activate`, restoring every original."""
    for owner, attr, original in _originals.values():
        setattr(owner, attr, original)
    _originals.clear()


def _declare_eager_imports() -> None:
    # pip 26.3 blocks imports once installing starts. Everything the hook uses
    # is imported by now; naming our modules also keeps them loaded for tools
    # that reload pip.
    eager = getattr(pip, "_EAGER_IMPORTS", None)
    if isinstance(eager, set):
        eager.update({"wrapt", "peep_hook.pip_patches", "peep_hook.report",
                      "peep_hook.reqfile", "peep_hook.hashes", "peep_hook.policy",
                      "peep_hook.pins", "peep_hook.installed", "peep_hook.audit",
                      "peep_hook.support"})
