"""Build dependencies resolved with pip's own resolver, running no archive's code.

``peep-hook fill --build-constraints`` pins one version of each build
dependency (a constraints file holds one pin a name). The versions are chosen
by pip's vendored ``resolvelib``, the resolver pip itself uses, so a later
requirement that the newest version does not satisfy backtracks to an older
one instead of failing. The provider below answers from pip's finder (the
versions) and from metadata fill reads without running code (PEP 658 files,
wheel ``METADATA``, an sdist's ``pyproject.toml`` and reliable ``PKG-INFO``):
see :class:`Source`. Its method signatures accept both resolvelib interfaces
pip vendors (0.5 in pip 20.3; 0.7 and later from pip 21.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from peep_hook.commands.fill.pip_index import FillError


@dataclass(frozen=True)
class Requirement:
    key: str  # normalized project name
    req: Any  # pip's packaging Requirement
    parent: str  # who needs it: an sdist being built, or name==version


@dataclass(frozen=True)
class Candidate:
    key: str
    name: str
    version: Any  # pip's packaging Version
    extras: frozenset[str] = field(default_factory=frozenset)


class Source(Protocol):
    def versions(self, name: str, key: str) -> list[Any]:
        """The versions pip's finder offers here, newest first (only a name's pin
        when the files pin it)."""

    def dependencies_of(self, candidate: Candidate) -> list[Requirement]:
        """What installing (or building) this candidate needs, markers evaluated."""

    def parse(self, text: str, parent: str) -> Requirement: ...


def _identify(item: Requirement | Candidate) -> str:
    extras = item.req.extras if isinstance(item, Requirement) else item.extras
    return item.key + (f"[{','.join(sorted(extras))}]" if extras else "")


def _provider_class() -> type:
    from pip._vendor.resolvelib import AbstractProvider

    class Provider(AbstractProvider):  # type: ignore[misc,valid-type]
        def __init__(self, source: Source) -> None:
            self.source = source

        def identify(self, requirement_or_candidate: Any) -> str:
            return _identify(requirement_or_candidate)

        def get_preference(self, *args: Any, **kwargs: Any) -> int:
            return 0

        def find_matches(self, *args: Any, **kwargs: Any) -> list[Candidate]:
            if len(args) + len(kwargs) == 1:  # resolvelib 0.5: (requirements)
                requirements = list(args[0] if args else kwargs["requirements"])
                excluded: set[Candidate] = set()
            else:  # 0.7+: (identifier, requirements, incompatibilities)
                names = ("identifier", "requirements", "incompatibilities")
                given = dict(zip(names, args), **kwargs)
                identifier = given["identifier"]
                requirements = list(given["requirements"][identifier])
                excluded = set(given["incompatibilities"][identifier])
            first = requirements[0]
            extras = frozenset(first.req.extras)
            spec = first.req.specifier
            for other in requirements[1:]:
                spec = spec & other.req.specifier
            versions = self.source.versions(first.req.name, first.key)
            allowed = set(spec.filter(versions))
            found = [Candidate(first.key, first.req.name, v, extras)
                     for v in versions if v in allowed]
            return [c for c in found if c not in excluded]

        def is_satisfied_by(self, requirement: Requirement, candidate: Candidate) -> bool:
            return bool(requirement.req.specifier.contains(candidate.version, prereleases=True))

        def get_dependencies(self, candidate: Candidate) -> list[Requirement]:
            return self.source.dependencies_of(candidate)

    return Provider


def resolve(source: Source, roots: Iterable[Requirement]) -> dict[str, Candidate]:
    """key -> the version chosen for it, for every build dependency."""
    from pip._vendor.resolvelib import BaseReporter, ResolutionImpossible, Resolver

    resolver = Resolver(_provider_class()(source), BaseReporter())
    try:
        result = resolver.resolve(list(roots), max_rounds=2000)
    except ResolutionImpossible as exc:
        causes = "; ".join(f"{c.requirement.req} (for {_parent(c)})" for c in exc.causes)
        raise FillError(f"pip's resolver finds no set of versions that builds them all: "
                        f"{causes}") from None
    except Exception as exc:  # ResolutionTooDeep, a changed resolvelib
        if isinstance(exc, FillError):
            raise
        raise FillError(f"pip's resolver failed: {type(exc).__name__}: {exc}") from None
    return {c.key: c for c in result.mapping.values() if not c.extras}


def _parent(cause: Any) -> str:
    parent = cause.parent
    if parent is None:
        return cause.requirement.parent
    return f"{parent.name}=={parent.version}"
