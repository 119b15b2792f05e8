"""fill's view of the indexes: pip's own configuration, session and finder.

``peep-hook fill`` must hash exactly the archives the user's pip would
install, so it asks what pip would ask, where pip would ask it. Like
pip-tools, it builds pip's ``download`` command object and uses its option
parser (command line, ``PIP_*`` variables and configuration files, with pip's
precedence), its session (netrc and keyring credentials, certificates,
proxies, retries, trusted hosts) and its ``PackageFinder`` (PEP 503 and
PEP 691 pages, find-links, yanked files, ``Requires-Python``, pre-releases,
format control, the target's tags). The requirements files' own options
(``-i``, ``--no-index``, ``-f``, ``--only-binary``...) are applied by pip's
requirements-file parser. Archives are downloaded through the session and
hashed here: nothing goes through pip's preparer, so nothing is unpacked,
built or run, and the hook, which guards the preparer, is never involved.

The internal APIs used are checked before use, as the hook checks its patch
points; if one differs on this pip, fill refuses with a clear message.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import re
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Iterable, Sequence

from peep_hook.core import audit
from peep_hook.core.hashes import EMPTY_SHA256_HEX


class FillError(Exception):
    """Something that stops one requirement (or the whole run) from being filled."""


#: (module, qualified name, leading parameters) of each pip internal fill uses.
_API: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pip._internal.commands", "create_command", ("name",)),
    ("pip._internal.cli.cmdoptions", "make_target_python", ("options",)),
    ("pip._internal.req.req_file", "parse_requirements",
     ("filename", "session", "finder", "options", "constraint")),
    ("pip._internal.index.package_finder", "PackageFinder.find_all_candidates",
     ("project_name",)),
    ("pip._internal.index.package_finder", "PackageFinder.find_best_candidate",
     ("project_name", "specifier", "hashes")),
    ("pip._internal.index.package_finder", "PackageFinder.make_link_evaluator",
     ("project_name",)),
    ("pip._internal.index.package_finder", "LinkEvaluator.evaluate_link", ("link",)),
    ("pip._internal.utils.misc", "redact_auth_from_url", ("url",)),
    ("pip._internal.network.utils", "response_chunks", ("response", "chunk_size")),
    ("pip._internal.utils.hashes", "Hashes.__init__", ("hashes",)),
    ("pip._internal.models.wheel", "Wheel.__init__", ("filename",)),
    ("pip._vendor.resolvelib", "Resolver.resolve", ("requirements",)),  # fill/resolve.py
)
#: Methods of pip's download command object (pip-tools' entry points).
_COMMAND_API: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("parse_args", ("args",)),
    ("_build_session", ("options", "retries", "timeout")),
    ("_build_package_finder", ("options", "session", "target_python", "ignore_requires_python")),
)
_CHUNK = 1 << 20


def _params(function: Any) -> list[str]:
    function = inspect.unwrap(function)
    return [p for p in inspect.signature(function).parameters if p != "self"]


def _lookup(module_name: str, qualname: str) -> Any:
    try:
        owner: Any = import_module(module_name)
    except ImportError as exc:
        raise FillError(f"this pip has no {module_name} ({exc})") from None
    for part in qualname.split("."):
        owner = getattr(owner, part, None)
        if owner is None:
            raise FillError(f"this pip has no {module_name}.{qualname}")
    return owner


def _check(where: str, function: Any, expected: tuple[str, ...]) -> None:
    names = _params(function) if callable(function) else []
    if names[: len(expected)] != list(expected):
        raise FillError(f"{where} has parameters ({', '.join(names)}), expected "
                        f"({', '.join(expected)}, ...)")


def check_pip(command: Any = None) -> None:
    """Check every pip internal fill relies on; FillError naming the first that differs."""
    try:
        for module_name, qualname, params in _API:
            _check(f"{module_name}.{qualname}", _lookup(module_name, qualname), params)
        for name, params in _COMMAND_API if command is not None else ():
            _check(f"pip's download command .{name}", getattr(command, name, None), params)
    except FillError as exc:
        raise FillError(f"fill uses pip's own finder and session, and this pip "
                        f"({_pip_version()}) differs from what it was written for: {exc}. "
                        "Run fill with a pip peep-hook supports.") from None


def _pip_version() -> str:
    try:
        return f"pip {import_module('pip').__version__}"
    except (ImportError, AttributeError):
        return "pip, version unknown"


def redact(url: str) -> str:
    """A URL with any password replaced by ****, as pip shows URLs."""
    redactor: Any = _lookup("pip._internal.utils.misc", "redact_auth_from_url")
    return str(redactor(url))


@dataclass(frozen=True)
class File:
    """One file of a project that pip's finder found."""

    url: str  # as found, without fragment; may carry credentials: never print it
    filename: str
    version: str
    is_wheel: bool
    sha256: str | None  # as published by the index or find-links page
    yanked: bool
    #: PEP 658: the wheel's METADATA, served beside it (pip 22.3+ reads the link)
    metadata_url: str | None = None
    metadata_sha256: str | None = None

    @property
    def yanked_note(self) -> str:
        """What to add to how it was hashed: whether the index yanked it."""
        return ", yanked on the index" if self.yanked else ""


@dataclass
class Download:
    path: str
    sha256: str
    filename: str


class _EveryTag:
    """A TargetPython whose tags are those of the link being evaluated: every
    wheel of a release fits it (``--all-files``)."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.tags: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def get_tags(self) -> list[Any]:
        return list(self.tags)

    get_unsorted_tags = get_tags
    get_sorted_tags = get_tags


class PipIndex:
    """pip's configuration, session and finders, for one fill run."""

    def __init__(self, pip_args: Sequence[str], workdir: str) -> None:
        try:
            create_command = import_module("pip._internal.commands").create_command
        except ImportError as exc:
            raise FillError(
                "pip is not importable by this Python; fill uses pip's own configuration, "
                "session and finder, so run it with the Python (and pip) you deploy with"
            ) from exc
        check_pip()
        self.command = create_command("download")
        check_pip(self.command)
        self.options = self._parse(list(pip_args))
        make_target_python = _lookup("pip._internal.cli.cmdoptions", "make_target_python")
        self.target = make_target_python(self.options)
        self.session = self.command._build_session(self.options)
        self.finder = self.command._build_package_finder(
            options=self.options, session=self.session, target_python=self.target,
            ignore_requires_python=getattr(self.options, "ignore_requires_python", False))
        # --all-files: every file of a release, whatever its tags, Requires-Python or
        # format (a copy of the options, so that the files' options reach both).
        self.all_options = copy.copy(self.options)
        self.all_options.format_control = copy.deepcopy(self.options.format_control)
        self.every_file = self.command._build_package_finder(
            options=self.all_options, session=self.session, target_python=self.target,
            ignore_requires_python=True)
        self._any_tag(self.every_file)
        self.workdir = workdir
        self._downloads: dict[str, Download] = {}

    def _parse(self, args: list[str]) -> Any:
        try:
            options, rest = self.command.parse_args(args)
        except SystemExit:  # optparse printed why
            raise FillError("pip's options or configuration were refused (see above)") from None
        if rest:
            raise FillError(f"unexpected arguments for pip: {' '.join(rest)}")
        if options.cache_dir:  # as pip's Command._main does
            options.cache_dir = os.path.abspath(os.path.expanduser(options.cache_dir))
        return options

    @staticmethod
    def _any_tag(finder: Any) -> None:
        make = finder.make_link_evaluator
        wheel_class = _lookup("pip._internal.models.wheel", "Wheel")

        def make_link_evaluator(project_name: str) -> Any:
            evaluator = make(project_name)
            if not hasattr(evaluator, "_target_python"):
                raise FillError("this pip's LinkEvaluator has no _target_python; "
                                "--all-files cannot list every file")
            target = _EveryTag(evaluator._target_python)
            evaluator._target_python = target
            evaluate = evaluator.evaluate_link

            def evaluate_link(link: Any) -> Any:
                try:
                    target.tags = list(wheel_class(link.filename).file_tags)
                except Exception:  # not a wheel, or an invalid name: pip decides
                    target.tags = []
                return evaluate(link)

            evaluator.evaluate_link = evaluate_link
            return evaluator

        finder.make_link_evaluator = make_link_evaluator

    # -- the requirements files' options

    def read_options(self, path: str, constraint: bool) -> None:
        """Apply a file's options (and its -r/-c files') as pip would, to both finders."""
        parse = _lookup("pip._internal.req.req_file", "parse_requirements")
        for finder, options in ((self.finder, self.options),
                                (self.every_file, self.all_options)):
            try:
                for _ in parse(path, self.session, finder=finder, options=options,
                               constraint=constraint):
                    pass
            except Exception as exc:  # pip's InstallationError and friends
                raise FillError(f"pip cannot read it: {error_text(exc)}") from None
        control = self.all_options.format_control
        control.no_binary.clear()
        control.only_binary.clear()

    # -- choosing files

    def describe(self) -> str:
        sources = [redact(u) for u in self.finder.index_urls]
        sources += [redact(u) for u in self.finder.find_links]
        return ", ".join(sources) or "no index (--no-index and no --find-links)"

    def candidates(self, name: str) -> list[File]:
        """Every file pip would consider for this project here."""
        return [self._file(c) for c in self._find(self.finder, name)]

    def release(self, name: str, version: Any) -> list[File]:
        """Every file of one release, for every target (``--all-files``)."""
        return [self._file(c) for c in self._find(self.every_file, name)
                if c.version == version]

    def files_of(self, name: str, version: str) -> list[File]:
        """Every file of one installed release, whatever its tags (``verify --deep``)."""
        version_class = _lookup("pip._vendor.packaging.version", "Version")
        try:
            wanted = version_class(version)
        except ValueError:
            raise FillError(f"{version!r} is not a version pip can read") from None
        return self.release(name, wanted)

    def best(self, name: str, specifier: Any, allowed: Iterable[str] = ()) -> File | None:
        """The file pip would install here; among equals, one whose published hash is
        allowed (as pip prefers in hash-checking mode)."""
        hashes_class = _lookup("pip._internal.utils.hashes", "Hashes")
        allowed = sorted(allowed)
        hashes = hashes_class({"sha256": allowed}) if allowed else None
        try:
            result = self.finder.find_best_candidate(name, specifier, hashes=hashes)
        except _errors() as exc:
            raise FillError(f"cannot read the index: {error_text(exc)}") from None
        best = result.best_candidate
        return None if best is None else self._file(best)

    def _find(self, finder: Any, name: str) -> list[Any]:
        try:
            return list(finder.find_all_candidates(name))
        except _errors() as exc:
            raise FillError(f"cannot read the index: {error_text(exc)}") from None

    @staticmethod
    def _file(candidate: Any) -> File:
        link = candidate.link
        metadata = getattr(link, "metadata_link", None)  # PEP 658, pip 22.3+
        metadata_link = metadata() if callable(metadata) and link.is_wheel else None
        return File(url=link.url_without_fragment, filename=link.filename,
                    version=str(candidate.version), is_wheel=bool(link.is_wheel),
                    sha256=_sha256(link), yanked=bool(link.is_yanked),
                    metadata_url=metadata_link.url_without_fragment if metadata_link else None,
                    metadata_sha256=_sha256(metadata_link) if metadata_link else None)

    def metadata(self, f: File) -> str:
        """A wheel's METADATA from the index's PEP 658 file, checked against the hash
        the index publishes for it, if any."""
        assert f.metadata_url is not None
        try:
            response = self.session.get(f.metadata_url)
            response.raise_for_status()
            data = response.content
        except _errors() as exc:
            raise FillError(f"cannot download {redact(f.metadata_url)}: {error_text(exc)}") \
                from None
        if f.metadata_sha256 and hashlib.sha256(data).hexdigest() != f.metadata_sha256:
            raise FillError(f"{redact(f.metadata_url)}: the index publishes sha256="
                            f"{f.metadata_sha256} for it but served other bytes")
        return data.decode("utf-8", errors="replace")

    # -- downloading

    def download(self, url: str) -> Download:
        """Fetch through pip's session (its auth, certificates, proxies) and hash."""
        cached = self._downloads.get(url)
        if cached is not None:
            return cached
        headers = _lookup("pip._internal.network.utils", "HEADERS")
        chunks = _lookup("pip._internal.network.utils", "response_chunks")
        filename = os.path.basename(url.split("?")[0].rstrip("/")) or "archive"
        filename = _unquote(filename)
        safe = re.sub(r"[^A-Za-z0-9._+-]", "_", filename)
        path = os.path.join(self.workdir, f"{len(self._downloads)}-{safe}")
        digest = hashlib.sha256()
        try:
            response = self.session.get(url, headers=headers, stream=True)
            try:
                response.raise_for_status()
                with open(path, "wb") as f:
                    for chunk in chunks(response, _CHUNK):
                        digest.update(chunk)
                        f.write(chunk)
            finally:
                response.close()
        except _errors() as exc:
            raise FillError(f"cannot download {redact(url)}: {error_text(exc)}") from None
        if digest.hexdigest() == EMPTY_SHA256_HEX:
            raise FillError(f"{redact(url)} is empty (a truncated download?)")
        result = Download(path, digest.hexdigest(), filename)
        self._downloads[url] = result
        return result

    def fetch(self, f: File) -> Download:
        """Download a file; its hash must be the one the index published, if any."""
        download = self.download(f.url)
        if f.sha256 is not None and f.sha256 != download.sha256:
            raise FillError(f"{f.filename}: the index publishes sha256={f.sha256} but served "
                            f"an archive with sha256={download.sha256}; not filled")
        return download

    def hashes(self, files: Sequence[File]) -> list[tuple[str, str, str]]:
        """(sha256, file name, how it was hashed) of each file, by file name: as
        the index publishes it, else downloaded."""
        result = []
        for f in sorted(files, key=lambda f: f.filename):
            if f.sha256 is not None:
                result.append((f.sha256, f.filename, "published by the index" + f.yanked_note))
            else:
                result.append((self.fetch(f).sha256, f.filename, "downloaded" + f.yanked_note))
        return result

    # -- the target

    def marker_environment(self) -> dict[str, str]:
        """Marker variables that --python-version changes (pip download leaves the
        rest as this machine's)."""
        version = self.options.python_version
        if not version:
            return {}
        info = self.target.py_version_info
        return {"python_version": ".".join(map(str, info[:2])),
                "python_full_version": ".".join(map(str, info[:3]))
                if len(info) >= 3 else ".".join(map(str, info[:2])) + ".0"}

    @property
    def python_version(self) -> str:
        return ".".join(map(str, self.target.py_version_info[:3]))


def _sha256(link: Any) -> str | None:
    """The sha256 a page publishes for a link (``#sha256=``, or PEP 691's hashes)."""
    hashes = getattr(link, "_hashes", None)  # pip 23.0+: every hash published
    if isinstance(hashes, dict):
        value = hashes.get("sha256")
    else:
        value = link.hash if link.hash_name == "sha256" else None
    return value.lower() if value else None


def _unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)


def _errors() -> tuple[type[BaseException], ...]:
    """What pip's session raises on a network failure: requests' errors (OSErrors)
    and, from pip 25, pip's own diagnostic errors."""
    return (OSError, _lookup("pip._internal.exceptions", "PipError"))


def error_text(exc: BaseException) -> str:
    """Why an operation failed, for a message: any URL password redacted."""
    if hasattr(exc, "reference") and hasattr(exc, "message"):  # pip's DiagnosticPipError
        context = getattr(exc, "context", None)
        text = f"{exc.message}" + (f": {context}" if context else "")
        return audit.redact(re.sub(r"\[/?[a-z ]*\]", "", text))  # its rich markup
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    return audit.redact(str(reason))  # requests' errors quote URLs
