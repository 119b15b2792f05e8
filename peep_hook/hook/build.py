"""Build: build dependencies, which pip never hash-checks itself.

Each build environment's ``install_requirements`` is wrapped: every build
requirement is rewritten to the exact version pinned with a hash in the files
pip read, and the pins are handed to pip's build child (through a private
hand-off file) or to pip 26's in-process installer, where the same guard
checks each archive. When build dependencies lack hashes, the child (or the
nested resolve) collects every one of them, dependencies included, and this
pip shows their blocks, labelled as the build dependencies of the sdist.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pip._internal.exceptions import PipError
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

from peep_hook.core import messages
from peep_hook.hook import collect_missing
from peep_hook.hook.collect import applies_here, pin_constraints
from peep_hook.hook.state import (
    HookError,
    audit_event,
    refuse,
    signature,
    state,
)


def verified_build_dependencies(wrapped, instance, args, kwargs):
    bound = signature(wrapped).bind(*args, **kwargs)
    requirements = list(bound.arguments.get("requirements") or ())
    if not requirements:
        return wrapped(*args, **kwargs)
    for_req = bound.arguments.get("for_req") or state.preparing
    installer = getattr(instance, "installer", None)
    in_process = type(installer).__name__ == "InprocessBuildEnvironmentInstaller"
    if type(instance).__name__ == "VenvBuildEnvironment" and not in_process:
        # pip 26.2+ --use-feature venv-isolation: the child pip runs in a fresh
        # venv where the hook does not load, so nothing there would be checked.
        refuse(messages.build_child_unchecked(for_req, requirements), for_req)
        return wrapped(*args, **kwargs)
    pinned, unpinned, conflicts = _pin_build_requirements(requirements)
    if conflicts:
        refuse(messages.build_pin_conflicts(for_req, conflicts), for_req)
        return wrapped(*args, **kwargs)
    bound.arguments["requirements"] = pinned
    if in_process:
        _check_in_process(installer)
    kind = str(bound.arguments.get("kind") or bound.arguments.get("message") or "")
    kind = "backend dependencies" if "backend" in kind else "build dependencies"
    with contextlib.ExitStack() as stack:
        handoff = None
        try:
            handoff = stack.enter_context(state.pins.handed_off())
        except OSError as exc:
            refuse(f"peep-hook: cannot write the pins for pip's build child ({exc}); "
                    "its build dependencies cannot be checked.", for_req)
        # Runs before the hand-off directory is removed.
        stack.callback(collect_missing.discard_build_report, handoff)
        collect_missing.discard_build_report(None)
        try:
            return wrapped(*bound.args, **bound.kwargs)
        except PipError as exc:
            found = collect_missing.take_build_report(handoff)
            if found is not None:
                # Build dependencies without hashes: their blocks, labelled,
                # once (the child's own output only names them).
                error = collect_missing.build_dependencies_missing(for_req, found, kind)
                audit_event("refused", for_req, reason=f"{kind} without hashes: "
                            + ", ".join(b.requirement for b in found.blocks))
                raise error from exc
            advice = messages.build_dependencies_failed(for_req, pinned, unpinned)
            if type(exc).__name__ == "BuildDependencyInstallError":
                # pip 26's in-process installer: the error itself carries the
                # captured output; keep it, add our hint.
                hint = getattr(exc, "hint_stmt", None)
                exc.hint_stmt = f"{hint}\n{advice}" if hint else advice
                raise
            # A child pip: its output has been shown already.
            audit_event("refused", for_req, reason=advice)
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
        if not applies_here(requirement.marker):
            continue
        version = state.pins.exact_version(requirement.name)
        if version is None:
            pinned.append(text)
            unpinned.append(requirement.name)
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            pin = state.pins.get(requirement.name)
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
        refuse("peep-hook: this pip's in-process build installer has changed shape; "
                "its build dependencies cannot be checked.")
        return
    preparer.require_hashes = True
    installer._build_constraints = (*constraints, *pin_constraints())
