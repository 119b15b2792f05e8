"""What the wrappers share: the per-command state, refusing, the audit log."""

from __future__ import annotations

import atexit
import inspect
import logging
from typing import Any, Callable

from pip._internal.exceptions import InstallationError, PipError
from pip._internal.utils.misc import redact_auth_from_url

from peep_hook.core import audit, messages, policy, reqfile
from peep_hook.core.hashed_pins import Pins

logger = logging.getLogger("peep_hook")

#: wrapt's wrapper signature: (wrapped, instance, args, kwargs) -> result
Wrapper = Callable[[Callable[..., Any], Any, tuple, dict], Any]


class HookError(InstallationError):
    """peep-hook refuses: pip prints ``ERROR: <message>`` and exits with 1."""


class State:
    """What the hook learns while one pip command runs."""

    def __init__(self) -> None:
        self.files: dict[str, reqfile.FileHashes] = {}
        self.origins: dict[str, messages.Origin] = {}
        self.preparing: Any = None  # the requirement whose archive is being prepared
        self.notices_given = False
        #: hashes by project name, from every hashed line of every file read
        self.pins = Pins()
        #: set in a build child: the parent's pins, the only ones it may use
        self.handoff: str | None = None
        #: project name -> sha256 of the archive verified for it in this run
        self.verified: dict[str, str] = {}
        #: project name -> the file of that archive, where pip hashed it
        self.verified_paths: dict[str, str] = {}
        self.policy = policy.Policy(policy.STRICT, "default")
        self.bundled: dict[str, list[str]] | None = None
        #: local directories the user named in this command (realpaths)
        self.user_directories: set[str] = set()
        #: tox's builds of the project under test named in this command (realpaths)
        self.tox_packages: set[str] = set()
        #: this pip is ensurepip's own run, or virtualenv's seeding run: the
        #: interpreter's (or virtualenv's) bundled wheels stand in for hashes
        self.ensurepip_run = False
        #: who bundled them, for messages
        self.bundled_by = "this Python bundles for ensurepip"
        self.audit: audit.AuditLog | None = None
        #: this command's options (install: --prefix and --root say where it installs)
        self.options: Any = None
        #: under warn: what strict would have refused, reported together at the end
        self.warnings: list[str] = []
        self.warned_blocks: list[messages.Block] = []


def warn_mode() -> bool:
    return state.policy.mode == policy.WARN


def refuse(message: str, req: Any = None) -> None:
    """Stop pip with ``message`` (strict), or report it and go on (warn)."""
    audit_event("refused", req, reason=message)
    if warn_mode():
        warn(message)
        return
    raise HookError(message)


def refuse_error(error: PipError, req: Any = None, verdict: str = "refused") -> None:
    """Raise pip's own error (strict), or log it and go on (warn)."""
    audit_event(verdict, req, reason=type(error).__name__)
    if warn_mode():
        warn(str(error))
        return
    raise error


def warn(message: str = "", block: messages.Block | None = None) -> None:
    """Under warn: keep what strict would have refused (a message, or the
    block of an archive without a hash) for the one report at the end."""
    if not state.warnings and not state.warned_blocks:
        atexit.register(report_warnings)
    if block is not None:
        state.warned_blocks.append(block)
    elif message not in state.warnings:
        state.warnings.append(message)


def report_warnings() -> None:
    """Everything strict would have refused in this command, in one report,
    the missing hashes as one list of blocks as strict gives them."""
    sections = list(state.warnings)
    if state.warned_blocks:
        sections.append(messages.missing_hashes(_unique(state.warned_blocks), final=False))
    state.warnings, state.warned_blocks = [], []
    if sections:
        logger.warning("peep-hook: policy is warn, so pip went on; strict would have "
                       "refused this command, for these reasons:\n\n%s",
                       "\n\n".join(sections))


def _unique(blocks: list[messages.Block]) -> list[messages.Block]:
    first: dict[tuple[str, str], messages.Block] = {}
    for b in blocks:
        first.setdefault((b.requirement, b.sha256), b)
    return list(first.values())


def audit_event(verdict: str, req: Any = None, **fields: Any) -> None:
    log = state.audit
    if log is None:
        return
    link = getattr(req, "link", None)
    comes_from = getattr(req, "comes_from", None)
    where = messages.source_line(comes_from)
    try:
        log.record(
            verdict,
            requirement=messages.requirement_text(req) if req is not None else None,
            file=where[0] if where else None,
            line=where[1] if where else None,
            url=redact_auth_from_url(link.url_without_fragment) if link is not None else None,
            **fields,
        )
    except audit.AuditError as exc:
        if warn_mode():
            logger.warning("peep-hook: %s", exc)
        else:
            raise HookError(
                f"peep-hook: {exc}; refusing, as the audit log is required.") from None


state = State()


def signature(function: Callable[..., Any]) -> inspect.Signature:
    """inspect.signature, computed once per function (install_wheel runs for
    every wheel installed)."""
    if inspect.ismethod(function):
        return inspect.signature(function)
    cached = _signatures.get(function)
    if cached is None:
        cached = _signatures[function] = inspect.signature(function)
    return cached


_signatures: dict[Any, inspect.Signature] = {}
