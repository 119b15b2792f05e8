"""pip's vendored ``packaging``, for ``peep-hook fill``: requirements, markers
and versions read as the pip that installs them reads them."""

from __future__ import annotations

from typing import Any, Iterable

from peep_hook.commands.fill.pip_index import FillError


class Packaging:
    """pip's vendored ``packaging``, with the marker environment of the target."""

    def __init__(self, environment: dict[str, str]) -> None:
        from pip._vendor.packaging import markers, requirements, specifiers, version

        self.requirement: Any = requirements.Requirement
        self.specifier_set: Any = specifiers.SpecifierSet
        self.version: Any = version.Version
        self.invalid_version: Any = version.InvalidVersion
        self.invalid: tuple[type[Exception], ...] = (
            requirements.InvalidRequirement, specifiers.InvalidSpecifier, markers.InvalidMarker)
        self.environment = environment

    def parse(self, text: str) -> Any:
        try:
            return self.requirement(text)
        except self.invalid as exc:
            raise FillError(f"cannot read requirement {text!r}: {exc}") from None

    def parse_version(self, text: str) -> Any | None:
        try:
            return self.version(text)
        except self.invalid_version:
            return None

    def applies(self, marker: Any, extras: Iterable[str] = ("",)) -> bool:
        if marker is None:
            return True
        try:
            return any(marker.evaluate({**self.environment, "extra": extra})
                       for extra in extras)
        except ValueError as exc:  # packaging's Undefined* errors
            raise FillError(f"cannot evaluate marker '{marker}': {exc}") from None
