"""Where peep-hook patches pip: the targets, their checks, applying them.

Imported only when a pip command that fetches archives starts (by
:mod:`peep_hook.startup.bootstrap`), before pip does anything else. The hook feeds
pip's own hash-checking mode rather than re-implementing it. The wrappers live
in :mod:`peep_hook.hook`, one module per concern:

* collect: ``req_file.get_file_content`` (record the raw text of every
  requirements and constraints file pip reads: pip drops comments before
  parsing), ``req_file.handle_requirement_line`` (add the peep hashes above a
  line to its ``--hash`` options), ``RequirementCommand.get_requirements``
  (switch on ``require_hashes``, refuse unpinned hashed requirements);
* enforce: ``RequirementPreparer._get_linked_req_hashes`` (the guard, called
  before every archive is fetched), ``WheelCache.get_cache_entry`` (never
  reuse a wheel pip built earlier), ``prepare_editable_requirement`` (the
  user's own ``-e .``), ``HashError.__str__`` / ``HashErrors.__str__``
  (peep-form reports);
* local_files: ``prepare.get_file_url`` and ``prepare._check_download_dir``
  (check and use a private copy of each local archive, never the original;
  refuse what is not a regular file), ``Link.is_existing_dir`` (whether a
  local path is a directory is decided once per command);
* build: ``install_requirements`` of each build environment (pin build
  dependencies to hashed versions, hand the pins to pip's build child);
* isolation: ``__enter__`` of each build environment (under a global hook,
  pip's own ``sitecustomize.py`` there starts the hook too);
* collect_missing: ``Resolver.resolve`` of both resolvers (report every
  missing hash of a run together, after resolving, instead of the first),
  resolvelib's ``Factory.make_requirement(s)_from_spec`` (follow no direct
  reference from metadata meanwhile);
* installed: resolvelib's ``Resolver.resolve`` and the legacy resolver's
  ``prepare_installed_requirement`` (reinstall, from an archive verified now,
  whatever is installed without a matching record), ``install_wheel``
  (record the verified hash).

Each target is looked up and its parameters checked before anything is
patched; if one is missing or changed, pip refuses to fetch anything.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Iterator

import pip
import wrapt

from peep_hook.core import audit, policy
from peep_hook.core.hashed_pins import HANDOFF_ENV, HandoffError, Pins
from peep_hook.core.pip_versions import OLDEST_SUPPORTED, supported_range, version_tuple
from peep_hook.hook import (
    build,
    build_isolation,
    collect,
    collect_missing,
    enforce,
    local_files,
    reinstall,
)
from peep_hook.hook.state import Wrapper, state
from peep_hook.startup.bootstrap import BELOW_PIP_ENV

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
        owner: Any = module
        for part in path:
            owner = getattr(owner, part, None)
            if owner is None:
                raise PatchTargetError(f"{where} is missing")
        if self.optional and not hasattr(owner, attr):
            return
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
        names = [p for p in _parameter_names(function) if p != "self"]
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
          ("url", "session"), collect.read_requirements_file),
    Patch("pip._internal.req.req_file", "handle_requirement_line",
          ("line", "options"), collect.add_peep_hashes),
    Patch("pip._internal.cli.req_command", "RequirementCommand.get_requirements",
          ("args", "options", "finder", "session"), collect.require_hashes),
    Patch("pip._internal.operations.prepare", "RequirementPreparer._get_linked_req_hashes",
          ("req",), enforce.guard_fetch),
    Patch("pip._internal.build_env", "BuildEnvironment.install_requirements",
          ("requirements",), build.verified_build_dependencies, subclasses=True),
    Patch("pip._internal.operations.prepare", "get_file_url",
          ("link", "download_dir", "hashes"), local_files.verify_private_copy),
    Patch("pip._internal.operations.prepare", "_check_download_dir",
          ("link", "download_dir", "hashes"), local_files.verify_download_dir_copy),
    Patch("pip._internal.models.link", "Link.is_existing_dir", (), local_files.decide_once),
    Patch("pip._internal.build_env", "BuildEnvironment.__enter__", (),
          build_isolation.reach_build_environment, subclasses=True),
    Patch("pip._internal.cache", "WheelCache.get_cache_entry",
          ("link", "package_name"), enforce.no_cached_builds),
    Patch("pip._internal.operations.prepare", "RequirementPreparer.prepare_editable_requirement",
          ("req",), enforce.editable_source_tree),
    Patch("pip._internal.operations.prepare", "RequirementPreparer.prepare_installed_requirement",
          ("req", "skip_reason"), reinstall.check_installed),
    Patch("pip._internal.resolution.resolvelib.resolver", "Resolver.resolve",
          ("root_reqs", "check_supported_wheels"), reinstall.reinstall_unverified),
    Patch("pip._internal.commands.install", "InstallCommand._handle_target_dir",
          ("target_dir", "target_temp_dir", "upgrade"), reinstall.replace_in_target_dir),
    Patch("pip._internal.operations.install.wheel", "install_wheel",
          ("name", "wheel_path", "scheme"), reinstall.record_verified_archive),
    # pips before 26 bind install_wheel into req_install at import time.
    Patch("pip._internal.req.req_install", "install_wheel",
          ("name", "wheel_path", "scheme"), reinstall.record_verified_archive, optional=True),
    Patch("pip._internal.exceptions", "HashError.__str__", (), enforce.explain_hash_error),
    Patch("pip._internal.exceptions", "HashErrors.__str__", (), enforce.explain_hash_errors),
    # Both resolvers: every missing hash in one run (hook/collect_missing.py).
    Patch("pip._internal.resolution.resolvelib.resolver", "Resolver.resolve",
          ("root_reqs", "check_supported_wheels"), collect_missing.collect_missing_hashes),
    Patch("pip._internal.resolution.legacy.resolver", "Resolver.resolve",
          ("root_reqs", "check_supported_wheels"), collect_missing.collect_missing_hashes),
    # ... and, while hashes are missing, no direct reference from metadata is
    # followed: resolvelib leaves it out (named so before pip 23.3, after it);
    # the guard refuses its fetch on every pip and resolver regardless.
    Patch("pip._internal.resolution.resolvelib.factory", "Factory.make_requirement_from_spec",
          ("specifier", "comes_from"), collect_missing.skip_unverified_direct_references,
          optional=True),
    Patch("pip._internal.resolution.resolvelib.factory", "Factory.make_requirements_from_spec",
          ("specifier", "comes_from"), collect_missing.skip_unverified_direct_references,
          optional=True),
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
    setup = []  # this machine's set-up: the configuration, the audit log, a hand-off
    try:
        setting = policy.current(config_path=config_path)
    except policy.ConfigError as exc:
        setting = policy.Policy(policy.STRICT, "default")
        setup.append(str(exc))
    if setting.mode == policy.OFF:
        return
    state.policy = setting
    setup += _open_audit_log(setting) + _take_handoff()
    problems, sites = _patch_sites()
    if problems or setup:
        raise _unavailable(setup, problems)
    for owner, attr, wrapper in sites:
        # Two wrappers may share a site: keep pip's own function, the first seen.
        _originals.setdefault((id(owner), attr), (owner, attr, inspect.getattr_static(owner, attr)))
        wrapt.wrap_function_wrapper(owner, attr, wrapper)
    _declare_eager_imports()
    # Every process this pip starts (setup.py, build backends) knows it runs
    # below a protected pip run.
    os.environ[BELOW_PIP_ENV] = setting.mode


def _open_audit_log(setting: policy.Policy) -> list[str]:
    """Open the audit log the policy names; what is wrong with it, if strict needs it."""
    if not setting.audit_log:
        return []
    state.audit = audit.AuditLog(setting.audit_log, pip.__version__)
    try:
        state.audit.check_writable()
    except audit.AuditError as exc:
        state.audit = None
        if setting.mode == policy.STRICT:
            return [f"{exc} (strict mode requires it)"]
    return []


def _take_handoff() -> list[str]:
    """Take the pins a parent pip handed over, if any; what is wrong with them."""
    handoff = os.environ.get(HANDOFF_ENV)
    if handoff:
        try:
            state.pins = Pins.read_handoff(handoff)
            state.handoff = handoff
        except HandoffError as exc:
            return [f"the pins handed over by the parent pip are unusable: {exc}"]
    return []


def _patch_sites() -> tuple[list[str], list[tuple[Any, str, Wrapper]]]:
    """(what is wrong with this pip's shape, where each patch goes): another pip
    or peep-hook is the cure for the first."""
    problems = []
    if version_tuple(pip.__version__) < OLDEST_SUPPORTED:
        problems.append(f"pip {pip.__version__} is older than the oldest supported "
                        f"({'.'.join(map(str, OLDEST_SUPPORTED))})")
    sites: list[tuple[Any, str, Wrapper]] = []
    for patch in PATCHES:
        try:
            sites.extend((owner, attr, patch.wrapper) for owner, attr in patch.sites())
        except PatchTargetError as exc:
            problems.append(str(exc))
    return problems, sites


def _unavailable(setup: list[str], problems: list[str]) -> HookUnavailable:
    cure = (
        f"Use a pip that peep-hook supports ({supported_range()}) or a newer peep-hook"
        if problems else "Fix what is named above"
    )
    return HookUnavailable(
        f"peep-hook cannot protect pip {pip.__version__}: "
        f"{'; '.join(setup + problems)}. pip will not install, download or build "
        f"anything until hashes can be checked. {cure}; set PEEP_HOOK=off to run "
        "one command unchecked."
    )


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
        eager.update({"wrapt", "peep_hook.hook.targets", "peep_hook.core.messages",
                      "peep_hook.core.reqfile", "peep_hook.core.hashes", "peep_hook.core.policy",
                      "peep_hook.core.hashed_pins", "peep_hook.core.install_record",
                      "peep_hook.core.audit", "peep_hook.core.pip_versions",
                      "peep_hook.startup.seeding", "peep_hook.hook", "peep_hook.hook.state",
                      "peep_hook.hook.collect", "peep_hook.hook.enforce", "peep_hook.hook.build",
                      "peep_hook.hook.reinstall", "peep_hook.hook.build_isolation",
                      "peep_hook.hook.local_files", "peep_hook.hook.collect_missing"})


def _parameter_names(function: Any) -> list[str]:
    """The named parameters of a function, positional ones first, as in its
    signature (following functools.wraps), read from its code object:
    inspect.signature costs more than the rest of the check, 38 times."""
    code = inspect.unwrap(function).__code__
    return list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
