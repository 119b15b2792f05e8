"""Collect: the hashes of every requirements and constraints file pip reads.

pip drops comments before parsing, so the raw text of each file is scanned for
peep blocks as pip reads it (``req_file.get_file_content``); each requirement
line then gets its block added to its ``--hash`` options
(``req_file.handle_requirement_line``), and pip's own hash-checking mode is
switched on for the command (``RequirementCommand.get_requirements``).
"""

from __future__ import annotations

import re
from typing import Any

import pip
from pip._internal.exceptions import HashErrors, HashUnpinned
from pip._internal.req.constructors import install_req_from_line
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

from peep_hook.core import messages, policy, reqfile
from peep_hook.core.pip_versions import NEWEST_TESTED, version_tuple
from peep_hook.hook import enforce
from peep_hook.hook.state import HookError, logger, refuse, refuse_error, state


def read_requirements_file(wrapped, instance, args, kwargs):
    url, text = wrapped(*args, **kwargs)
    source = args[0] if args else kwargs["url"]
    scanned = reqfile.scan(text)
    if scanned.malformed:
        refuse(messages.malformed_hash_lines(source, scanned.malformed))
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
    state.files[source] = scanned
    return url, text


def add_peep_hashes(wrapped, instance, args, kwargs):
    parsed = wrapped(*args, **kwargs)
    line = args[0] if args else kwargs["line"]
    scanned = state.files.get(line.filename)
    if scanned is None:
        refuse(f"peep-hook did not see the text of {line.filename}, so it cannot "
                "check its hashes.")
        return parsed
    options = parsed.options
    hashes = options.get("hashes") if options else None
    for hex_digest in (hashes or {}).get("sha256", ()):
        state.origins.setdefault(
            hex_digest,
            messages.Origin(messages.pip_option(hex_digest), line.filename, line.lineno),
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
            state.origins[hash_line.hex] = messages.Origin(
                f"# sha256: {hash_line.value}", line.filename, hash_line.lineno
            )
    _register_pin(parsed, f"{line.filename}:{line.lineno}")
    return parsed


# "name==version", the usual form of a pinned line: read without parsing a
# Requirement (which costs more than the rest of reading the line).
_SIMPLE_PIN = re.compile(
    r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*===?\s*([A-Za-z0-9.!+_-]+)")


def _register_pin(parsed: Any, origin: str) -> None:
    hexes = ((parsed.options or {}).get("hashes") or {}).get("sha256")
    if not hexes:
        return
    simple = _SIMPLE_PIN.fullmatch(parsed.requirement.strip())
    if simple is not None:
        state.pins.add(simple.group(1), simple.group(2), hexes, origin)
        return
    try:
        requirement = Requirement(parsed.requirement)
    except InvalidRequirement:
        return  # a URL or path: its hashes are checked against its own link
    if requirement.url or not applies_here(requirement.marker):
        return
    specs = list(requirement.specifier)
    exact = specs[0].version if len(specs) == 1 and specs[0].operator in ("==", "===") else None
    if exact is not None and "*" in exact:
        exact = None
    state.pins.add(requirement.name, exact, hexes, origin)


def applies_here(marker: Any) -> bool:
    """Whether a line's environment marker holds for this interpreter, as pip
    decides for a requirement or constraint line (``extra`` is ""). A line
    pip ignores gives no hash and no pin: ``dep==0.9 ; sys_platform ==
    "win32"`` must not make the Windows archive acceptable elsewhere. Build
    children run this same interpreter, so the parent's verdict holds there.
    A marker that cannot be evaluated counts as not holding."""
    if marker is None:
        return True
    try:
        return bool(marker.evaluate({"extra": ""}))
    except Exception:
        return False


def require_hashes(wrapped, instance, args, kwargs):
    options = args[1] if len(args) > 1 else kwargs["options"]
    messages.set_command(str(getattr(instance, "name", "install")))
    give_notices()
    if getattr(options, "no_require_hashes", False):
        refuse("peep-hook: --no-require-hashes would switch hash checking off. "
                "To run one command unchecked, set PEEP_HOOK=off instead.")
        options.no_require_hashes = False
    try:
        reqs = wrapped(*args, **kwargs)
    except RecursionError:
        # pips before 24 follow "-r" cycles until the stack runs out.
        raise HookError(
            "peep-hook: the requirements files include each other in a loop (or "
            f"nest too deeply): {', '.join(state.files) or 'unknown files'}"
        ) from None
    options.require_hashes = True
    state.options = options
    state.ensurepip_run = (enforce.is_virtualenv_seed_run(options)
                           or enforce.is_ensurepip_run(options))
    if state.handoff is not None:
        # A build child: resolve dependencies of build dependencies to the
        # versions the parent's files pin.
        reqs = list(reqs) + pin_constraints()
    else:
        _remember_user_directories(reqs)
    unpinned = HashErrors()
    for req in reqs:
        if _needs_pin(req):
            error = HashUnpinned()
            error.req = req
            unpinned.append(error)
    if unpinned:
        refuse_error(unpinned)
    return reqs


def _remember_user_directories(reqs: Any) -> None:
    """The local directories named on the command line or as path lines of the
    files: the only ones pip may build from (see enforce.named_by_user); and
    tox's build of the project under test, named on the command line."""
    for req in reqs:
        link = req.original_link
        if link is None or link.is_vcs:
            continue
        if link.is_existing_dir():
            state.user_directories.add(enforce.directory_key(link))
        elif (link.is_file and req.comes_from is None and not req.constraint
              and enforce.is_tox_package(link.file_path)):
            state.tox_packages.add(enforce.directory_key(link))


def pin_constraints() -> list[Any]:
    return [
        install_req_from_line(f"{name}=={version}", comes_from="peep-hook pins",
                              constraint=True)
        for name, version in sorted(state.pins.exact_pins().items())
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


def give_notices() -> None:
    if state.notices_given:
        return
    state.notices_given = True
    setting = state.policy
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
