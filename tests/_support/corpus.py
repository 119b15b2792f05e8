"""A generated corpus of hostile pip inputs, for tests/test_differential.py.

A :class:`Case` builds one scenario in a fresh case directory: what an index,
a find-links directory or the disk serves, the requirements and constraints
files, and pip's arguments. Its files are written twice, from the same
:class:`Req` lines: with the hashes in pip's form (``--hash=sha256:<hex>``) for
unhooked pip run with ``--require-hashes``, and as peep comments above each
requirement for hooked pip.

Cases are not written one by one: each family below is the product of a few
dimensions (how a requirement is written, what hash is given for it, what is
served in its place), kept small enough that one pip's whole corpus runs in
about a minute. Sdists and source trees carry a backend that leaves a marker
when any of their code runs (:mod:`tests._support.archives`).

A case may state what peep-hook's own policy requires whatever pip does
(``hooked="refuse"``: a weak fragment, a directory nobody named, a build
dependency pip never checks; ``hooked="accept"``: a control, everything hashed
right, proving the scenario's set-up works).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import shutil
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Union

from peep_hook.core.hashes import hex_to_peep
from tests._support.archives import Archive, backend_wheel, sdist, tampered, wheel
from tests._support.index import Index, canonical


@dataclass(frozen=True)
class Req:
    """A requirement line and the sha256 hex digests given for it."""

    text: str
    hashes: Sequence[str] = ()


Line = Union[Req, str]  # a str is written as is: an option, a comment


def render(lines: Sequence[Line], form: str) -> str:
    """The file text: ``--hash`` options on the line (pip), or a ``# sha256:``
    block above it (peep)."""
    out: list[str] = []
    for line in lines:
        if isinstance(line, str):
            out.append(line)
        elif form == "pip":
            out.append(" ".join([line.text, *(f"--hash=sha256:{h}" for h in line.hashes)]))
        else:
            out += [f"# sha256: {hex_to_peep(h)}" for h in line.hashes] + [line.text]
    return "\n".join(out) + "\n"


@dataclass
class Scenario:
    """What a case asks of pip. ``files`` are written per form under that
    form's own directory, which the index also serves: ``{reqs}`` in a file or
    an argument is that directory's path, ``{remote}`` its URL."""

    args: List[str]
    files: Dict[str, List[Line]] = field(default_factory=dict)  # by path in the form's dir
    command: str = "install"
    #: run before each form's pip run: what that run may remove (a -d entry)
    setup: Optional[Callable[[], None]] = None


class World:
    """One case's directory (pip's working directory), its index and markers."""

    def __init__(self, root: Path, index: Index, markers: Path) -> None:
        self.root, self.index, self.markers = root, index, markers
        self.dist = root / "dist"  # a find-links directory, and local paths
        self.dist.mkdir(parents=True, exist_ok=True)
        #: local files whose hash no output may show unless pip's own does
        self.secrets: list[Path] = []

    def sdist(self, name: str, version: str = "1.0", **kw) -> Archive:
        return sdist(name, version, marker_dir=self.markers, **kw)

    def tampered(self, archive: Archive) -> Archive:
        return tampered(archive, marker_dir=self.markers)

    def url(self, archive: Archive) -> str:
        return f"{self.index.base}/files/{archive.filename}"

    def source_tree(self, archive: Archive, where: Path) -> Path:
        """The sdist unpacked into directory ``where`` (its backend still
        leaves a marker when run)."""
        unpacked = self.root / "unpacked" / archive.filename
        with tarfile.open(fileobj=io.BytesIO(archive.data)) as tf:
            # Our own archive; the filter (3.12+, backported) keeps newer Pythons quiet.
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tf.extractall(unpacked, **safe)  # type: ignore[arg-type]
        where.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(unpacked / f"{archive.name}-{archive.version}"), str(where))
        return where

    def elsewhere(self, archive: Archive) -> str:
        """Serve ``archive`` outside the index (``/elsewhere/``, where each
        request is counted as a fetch); return its URL."""
        archive.write(self.index.root / ELSEWHERE.strip("/"))
        return f"{self.index.base}{ELSEWHERE}{archive.filename}"

    def link_page(self, project: str, href: str) -> None:
        """The index page of ``project`` holding this one link, as an attacker writes it."""
        page = self.index.root / "simple" / canonical(project) / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f'<html><body><a href="{href}">{project}</a></body></html>\n')


#: a path of the index's server outside the index: every request for it is a fetch
ELSEWHERE = "/elsewhere/"


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[World], Scenario]
    hooked: Optional[str] = None  # "refuse" or "accept", whatever pip does
    why: str = ""  # the policy behind hooked="refuse"
    # Built so that pip's refusal, if any, is about hashes: proof that the
    # scenario reached hash checking rather than failing in its set-up.
    pip_refuses_on_hashes: bool = False
    # pip alone fetches from outside the index or shows a local file's hash:
    # proof that the scenario sees it when hooked pip does.
    pip_follows: bool = False


def _other(archive: Archive) -> str:
    """sha256 of another file: what a wrong hash in a file looks like."""
    return hashlib.sha256(b"not " + archive.data).hexdigest()


# -- how a requirement is written -----------------------------------------------------
# Each form places ``served`` where the requirement line finds it and returns
# (line text, pip arguments).


def _pin_index(w: World, served: Archive) -> tuple[str, list[str]]:
    w.index.publish(served)
    return f"{served.name}=={served.version}", ["-i", w.index.url]


def _pin_findlinks(w: World, served: Archive) -> tuple[str, list[str]]:
    served.write(w.dist)
    return f"{served.name}=={served.version}", ["--no-index", "-f", str(w.dist)]


def _at_http(w: World, served: Archive) -> tuple[str, list[str]]:
    w.index.publish(served)
    return f"{served.name} @ {w.url(served)}", ["--no-index"]


def _at_file(w: World, served: Archive) -> tuple[str, list[str]]:
    return f"{served.name} @ {served.write(w.dist).as_uri()}", ["--no-index"]


def _relative_path(w: World, served: Archive) -> tuple[str, list[str]]:
    served.write(w.dist)
    return f"./dist/{served.filename}", ["--no-index"]  # pip runs in w.root


def _file_url(w: World, served: Archive) -> tuple[str, list[str]]:
    return served.write(w.dist).as_uri(), ["--no-index"]


def _egg_url(w: World, served: Archive) -> tuple[str, list[str]]:
    w.index.publish(served)
    return f"{w.url(served)}#egg={served.name}", ["--no-index"]


FORM_WRITERS = {
    "pin-index": _pin_index,
    "pin-findlinks": _pin_findlinks,
    "name-at-http": _at_http,
    "name-at-file": _at_file,
    "relative-path": _relative_path,
    "file-url": _file_url,
    "egg-url": _egg_url,
}


def _form_case(form: str, state: str) -> Case:
    write = FORM_WRITERS[form]

    def build(w: World) -> Scenario:
        genuine = w.sdist("victim")
        if state == "right":  # a wheel: the control installs without a build
            good = wheel("victim", "1.0")
            text, args = write(w, good)
            hashes = [good.sha256]
        elif state == "wrong":
            text, args = write(w, w.tampered(genuine))
            hashes = [genuine.sha256]
        elif state == "missing":
            text, args = write(w, genuine)
            hashes = []
        else:  # another file of the same release: the wheel's hash, only the sdist served
            text, args = write(w, genuine)
            hashes = [wheel("victim", "1.0").sha256]
        return Scenario(["-r", "{reqs}/requirements.txt", *args],
                        {"requirements.txt": [Req(text, hashes)]})

    return Case(f"form-{form}-{state}", build,
                hooked="accept" if state == "right" else None,
                pip_refuses_on_hashes=state != "right")


def form_cases() -> Iterator[Case]:
    for form, state in itertools.product(FORM_WRITERS, ("wrong", "missing")):
        yield _form_case(form, state)
    for form in ("pin-index", "pin-findlinks"):
        yield _form_case(form, "other-file-of-release")
    yield _form_case("pin-index", "right")


# -- a directory where an archive should be ------------------------------------------


def _backend_module(w: World) -> str:
    """The code of the marker build backend, to ship in a built wheel."""
    data = backend_wheel("markerbackend", "1.0", marker_dir=w.markers).data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        code = zf.read("markerbackend/__init__.py").decode()
    return code.split("\n", 1)[1]  # wheel() adds the VERSION line back


def _dir_case(place: str, state: str, command: str = "install") -> Case:
    def build(w: World) -> Scenario:
        victim = w.sdist("victim")  # never served as a file: only its tree is there
        given = [victim.sha256] if state == "hashed" else []
        files: Dict[str, List[Line]] = {}
        if place == "find-links":
            w.source_tree(victim, w.dist / victim.filename)
            lines: list[Line] = [Req("victim==1.0", given)]
            args = ["--no-index", "-f", str(w.dist)]
        elif place == "index-file-link":
            tree = w.source_tree(victim, w.root / "anywhere" / "victim")
            w.link_page("victim", f"{tree.as_uri()}#egg=victim-1.0")
            lines, args = [Req("victim==1.0", given)], ["-i", w.index.url]
        elif place == "dependency":
            app = wheel("app", "1.0", requires=["victim"])
            app.write(w.dist)
            w.source_tree(victim, w.dist / victim.filename)
            lines = [Req("app==1.0", [app.sha256]), Req("victim==1.0", given)]
            args = ["--no-index", "-f", str(w.dist)]
        else:  # a tree posing as the build backend's sdist, which builds the real backend
            backend = backend_wheel("markerbackend", "1.0", marker_dir=w.markers)
            poser = w.sdist("markerbackend", payload=_backend_module(w))
            w.source_tree(poser, w.dist / poser.filename)
            app = w.sdist("app", backend="markerbackend", build_requires=["markerbackend"])
            app.write(w.dist)
            lines = [Req("app==1.0", [app.sha256]), "-c constraints.txt"]
            files["constraints.txt"] = [
                Req("markerbackend==1.0", [backend.sha256] if state == "hashed" else [])]
            args = ["--no-index", "-f", str(w.dist)]
        if command != "install":
            args += ["-d" if command == "download" else "-w", str(w.root / "out")]
        files["requirements.txt"] = lines
        return Scenario(["-r", "{reqs}/requirements.txt", *args], files, command=command)

    suffix = "" if command == "install" else f"-{command}"
    return Case(f"dirlink-{place}-{state}{suffix}", build, hooked="refuse",
                why="a directory nobody named is not an archive: nothing was hashed",
                pip_refuses_on_hashes=place != "build-dependency")


def _user_tree_case(kind: str) -> Case:
    def build(w: World) -> Scenario:
        tree = w.source_tree(w.sdist("victim"), w.root / "project")
        with open(tree / "backend.py", "a") as f:  # PEP 660: a plain wheel will do
            f.write("get_requires_for_build_editable = get_requires_for_build_wheel\n"
                    "build_editable = build_wheel\n")
        text = "./project" if kind == "path-line" else "-e ./project"
        return Scenario(["-r", "{reqs}/requirements.txt", "--no-index"],
                        {"requirements.txt": [text]})

    return Case(f"dirlink-user-named-{kind}", build)


def dirlink_cases() -> Iterator[Case]:
    for place, state in itertools.product(("find-links", "index-file-link", "dependency"),
                                          ("hashed", "unhashed")):
        yield _dir_case(place, state)
    yield _dir_case("build-dependency", "hashed")
    for command in ("download", "wheel"):
        yield _dir_case("find-links", "hashed", command)
    for kind in ("path-line", "editable"):
        yield _user_tree_case(kind)


# -- local entries: links elsewhere, what is not a regular file ---------------------


def _local_case(place: str, state: str) -> Case:
    def build(w: World) -> Scenario:
        genuine = wheel("victim", "1.0")
        served = genuine if state == "right" else tampered(genuine)
        elsewhere = w.root / "elsewhere"
        args = ["--no-index", "-f", str(w.dist)]
        setup: Optional[Callable[[], None]] = None
        if place == "findlinks-devnull":  # a device: reading it gives nothing, at once
            (w.dist / genuine.filename).symlink_to(os.devnull)
        elif place == "findlinks-symlink":
            (w.dist / genuine.filename).symlink_to(served.write(elsewhere))
        else:  # out/<file> links elsewhere; a fresh download is no better (tampered)
            target = served.write(elsewhere)
            tampered(genuine).write(w.dist)
            out = w.root / "out"

            def put_link() -> None:  # each run may remove the link: put it back
                out.mkdir(exist_ok=True)
                (out / genuine.filename).symlink_to(target)

            setup = put_link
            args += ["-d", str(out)]
        return Scenario(["-r", "{reqs}/requirements.txt", *args],
                        {"requirements.txt": [Req("victim==1.0", [genuine.sha256])]},
                        command="install" if place.startswith("findlinks") else "download",
                        setup=setup)

    refused = {"findlinks-devnull": "refuse", "right": "accept"}
    return Case(f"local-{place}-{state}", build,
                hooked=refused.get(place) or refused.get(state),
                why="a device is not a regular file: it cannot be an archive",
                pip_refuses_on_hashes=state != "right")


def local_cases() -> Iterator[Case]:
    yield _local_case("findlinks-devnull", "wrong")
    for place, state in itertools.product(("findlinks-symlink", "download-dir-symlink"),
                                          ("wrong", "right")):
        yield _local_case(place, state)


# -- URL fragments ------------------------------------------------------------------

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
WEAK = ("md5", "sha1", "sha224")


def _fragment_case(algorithm: str, fragment: str, shape: str) -> Case:
    def build(w: World) -> Scenario:
        served = wheel("victim", "1.0")
        w.index.publish(served)
        data = served.data if fragment == "right" else b"not " + served.data
        url = f"{w.url(served)}#{algorithm}={hashlib.new(algorithm, data).hexdigest()}"
        if shape == "command-line":
            return Scenario([url, "--no-index"])
        given = [_other(served)] if shape == "wrong-sha256-above" else []
        return Scenario(["-r", "{reqs}/requirements.txt", "--no-index"],
                        {"requirements.txt": [Req(url, given)]})

    weak = algorithm in WEAK
    return Case(f"fragment-{algorithm}-{fragment}-{shape}", build,
                hooked="refuse" if weak else None,
                why=f"#{algorithm}= is too weak to make an archive acceptable",
                pip_refuses_on_hashes=fragment == "wrong")


def fragment_cases() -> Iterator[Case]:
    # A weak fragment that matches, where the strong hash is wrong or absent;
    # and a fragment of every algorithm that does not match.
    for algorithm, shape in itertools.product(WEAK, ("wrong-sha256-above", "command-line")):
        yield _fragment_case(algorithm, "right", shape)
    for algorithm in ALGORITHMS:
        yield _fragment_case(algorithm, "wrong", "no-hash-above")


# -- names spelled differently, repeated ---------------------------------------------


def _names_case(place: str, order: str) -> Case:
    spelled = {"same-file": "Foo_Bar", "nested-r": "FOO.BAR", "constraints": "foo_bar"}[place]

    def build(w: World) -> Scenario:
        # A second line for the project, spelled otherwise, carries the hash of
        # what the index serves: an included file that widens what is accepted.
        good = wheel("foo_bar", "1.0")
        served = tampered(good)
        w.index.publish(served)
        second: Line = Req(f"{spelled}==1.0", [served.sha256])
        files: Dict[str, List[Line]] = {}
        if place == "nested-r":
            files["sub/inner.txt"] = [second]
            second = "-r sub/inner.txt"
        elif place == "constraints":
            files["constraints.txt"] = [second]
            second = "-c constraints.txt"
        first: Line = Req("foo-bar==1.0", [good.sha256])
        files["requirements.txt"] = [second, first] if order == "first" else [first, second]
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url], files)

    return Case(f"names-{place}-{spelled}-other-hash-{order}", build)


def _names_control() -> Case:
    def build(w: World) -> Scenario:
        good = wheel("foo_bar", "1.0")
        w.index.publish(good)
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url],
                        {"requirements.txt": [Req("FOO.bar==1.0", [good.sha256])]})

    return Case("names-spelled-FOO.bar-right", build, hooked="accept")


def names_cases() -> Iterator[Case]:
    for place, order in itertools.product(("same-file", "nested-r", "constraints"),
                                          ("first", "last")):
        yield _names_case(place, order)
    yield _names_control()


# -- extras and markers --------------------------------------------------------------


def _extra_case(decoration: str, state: str) -> Case:
    line = {"extra": "app[x]==1.0", "extra-and-marker": 'app[X]==1.0 ; python_version >= "3"'}

    def build(w: World) -> Scenario:
        # wheel() writes no Provides-Extra; it rides on the requirement's line.
        app = wheel("app", "1.0", requires=['helper; extra == "x"\nProvides-Extra: x'])
        helper = w.sdist("helper")
        w.index.publish(app, helper if state == "missing" else w.tampered(helper))
        lines: list[Line] = [Req(line[decoration], [app.sha256])]
        if state == "wrong":
            lines.append(Req("helper==1.0", [helper.sha256]))
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url],
                        {"requirements.txt": lines})

    return Case(f"extras-{decoration}-helper-{state}", build, pip_refuses_on_hashes=True)


def _marker_case(applies: bool) -> Case:
    marker = 'python_version >= "3"' if applies else 'python_version < "3"'

    def build(w: World) -> Scenario:
        w.index.publish(w.sdist("victim"))
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url],
                        {"requirements.txt": [Req(f"victim==1.0 ; {marker}")]})

    name = "applies" if applies else "excludes"
    return Case(f"markers-{name}-unhashed", build, hooked=None if applies else "accept",
                pip_refuses_on_hashes=applies)


def _excluded_hash_case(place: str, target: str) -> Case:
    """The only hash for a dependency (or a build dependency) is on a line whose
    marker excludes it, as ``dep==0.9 ; sys_platform == "win32"`` on Linux:
    pip ignores that line, hash and all."""
    def build(w: World) -> Scenario:
        if target == "dependency":
            dep = w.sdist("dep", "1.5")
            app = wheel("app", "1.0", requires=["dep"])
        else:
            dep = backend_wheel("markerbackend", "1.0", marker_dir=w.markers)
            app = w.sdist("app", backend="markerbackend", build_requires=["markerbackend"])
        w.index.publish(app, dep)
        pin = Req(f'{dep.name}=={dep.version} ; python_version < "3"', [dep.sha256])
        lines: list[Line] = [Req("app==1.0", [app.sha256])]
        files = {"requirements.txt": lines}
        if place == "in-file":
            lines.append(pin)
        else:
            lines.append("-c constraints.txt")
            files["constraints.txt"] = [pin]
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url], files)

    build_dependency = target == "build-dependency"
    return Case(f"markers-excluded-{place}-hashes-{target}", build,
                hooked="refuse" if build_dependency else None,
                why="a line whose marker excludes it gives no hash, for any archive",
                pip_refuses_on_hashes=not build_dependency)


def extras_marker_cases() -> Iterator[Case]:
    yield _extra_case("extra", "missing")
    yield _extra_case("extra-and-marker", "wrong")
    yield _marker_case(True)
    yield _marker_case(False)
    yield _excluded_hash_case("in-file", "dependency")
    yield _excluded_hash_case("constraints", "dependency")
    yield _excluded_hash_case("constraints", "build-dependency")


# -- dependencies and build dependencies ---------------------------------------------


def bundled_setuptools() -> Optional[Archive]:
    """The setuptools wheel this interpreter bundles for ensurepip (3.11 and
    older), or None."""
    directory = Path(sysconfig.get_paths()["stdlib"]) / "ensurepip" / "_bundled"
    for path in sorted(directory.glob("setuptools-*.whl")) if directory.is_dir() else []:
        version = path.name.split("-")[1]
        return Archive("setuptools", version, path.name, path.read_bytes())
    return None


BUNDLED = "the interpreter's bundled wheels are trusted only for ensurepip's own run"


def _dep_case(state: str) -> Case:
    def build(w: World) -> Scenario:
        if state == "bundled-wheel-unhashed":
            dep = bundled_setuptools()
            assert dep is not None
        else:
            dep = wheel("dep", "1.5") if state.endswith("right") else w.sdist("dep", "1.5")
        app = wheel("app", "1.0", requires=[dep.name])
        w.index.publish(app, w.tampered(dep) if state.endswith("wrong") else dep)
        lines: list[Line] = [Req("app==1.0", [app.sha256])]
        files = {"requirements.txt": lines}
        pin = Req(f"{dep.name}=={dep.version}", [dep.sha256])
        if state.startswith("in-file"):
            lines.append(pin)
        elif state.startswith("constraints"):
            lines.append("-c constraints.txt")
            files["constraints.txt"] = [pin]
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url], files)

    hooked = {"in-file-right": "accept", "bundled-wheel-unhashed": "refuse"}.get(state)
    return Case(f"deps-dependency-{state}", build, hooked=hooked, why=BUNDLED,
                pip_refuses_on_hashes=state in ("unhashed", "constraints-wrong"))


def _bundled_top_level_case() -> Case:
    def build(w: World) -> Scenario:
        bundled = bundled_setuptools()
        assert bundled is not None
        w.index.publish(bundled)
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url],
                        {"requirements.txt": [Req("setuptools")]})

    return Case("deps-top-level-bundled-wheel-unhashed", build, hooked="refuse", why=BUNDLED)


def _build_dep_case() -> Case:
    def build(w: World) -> Scenario:
        backend = backend_wheel("markerbackend", "1.0", marker_dir=w.markers)
        app = w.sdist("app", backend="markerbackend", build_requires=["markerbackend"])
        w.index.publish(app, backend)
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url],
                        {"requirements.txt": [Req("app==1.0", [app.sha256])]})

    return Case("deps-build-dependency-unhashed", build, hooked="refuse",
                why="build dependencies are verified, although pip never checks them")


def deps_cases() -> Iterator[Case]:
    states = ["in-file-right", "constraints-right", "unhashed", "constraints-wrong"]
    bundled = bundled_setuptools() is not None  # Python 3.11 and older
    for state in states + (["bundled-wheel-unhashed"] if bundled else []):
        yield _dep_case(state)
    if bundled:
        yield _bundled_top_level_case()
    yield _build_dep_case()


# -- direct references in the metadata of unhashed archives --------------------------


def _metadata_ref_case(target: str, app_state: str) -> Case:
    def build(w: World) -> Scenario:
        if target == "url":
            reference = w.elsewhere(wheel("probe", "1.0"))
        else:  # a local file an attacker would like hashed and shown
            secret = w.root / "secrets" / "id_rsa"
            secret.parent.mkdir(parents=True, exist_ok=True)
            secret.write_text("PRIVATE KEY\n")
            w.secrets.append(secret)
            reference = secret.as_uri()
        app = wheel("app", "1.0", requires=[f"probe @ {reference}"])
        w.index.publish(app)
        line = Req("app==1.0", [app.sha256] if app_state == "hashed" else [])
        return Scenario(["-r", "{reqs}/requirements.txt", "-i", w.index.url],
                        {"requirements.txt": [line]})

    # Unhashed, pip stops at app; hashed, pip follows the reference itself
    # (the control: a fetch and a read are seen), then stops at its missing hash.
    return Case(f"metadata-ref-{target}-app-{app_state}", build, pip_refuses_on_hashes=True,
                pip_follows=app_state == "hashed")


def metadata_ref_cases() -> Iterator[Case]:
    for target, app_state in itertools.product(("url", "file"), ("unhashed", "hashed")):
        yield _metadata_ref_case(target, app_state)


# -- nested requirements and constraints files ---------------------------------------


def _nesting_case(place: str, state: str) -> Case:
    def build(w: World) -> Scenario:
        genuine = w.sdist("victim")
        w.index.publish(w.tampered(genuine) if state == "wrong" else genuine)
        line = Req("victim==1.0", [genuine.sha256] if state == "wrong" else [])
        base = ["-i", w.index.url]
        if place == "constraints-only":  # the requirement on the command line
            return Scenario(["victim==1.0", "-c", "{reqs}/constraints.txt", *base],
                            {"constraints.txt": [line]})
        if place == "nested-r-twice":
            return Scenario(["-r", "{reqs}/requirements.txt", *base], {
                "requirements.txt": ["-r a/one.txt"],
                "a/one.txt": ["-r ../b/two.txt"],
                "b/two.txt": [line],
            })
        return Scenario(["-r", "{reqs}/requirements.txt", *base], {
            "requirements.txt": ["-r {remote}/sub/inner.txt"],  # over http
            "sub/inner.txt": [line],
        })

    return Case(f"nesting-{place}-{state}", build,
                pip_refuses_on_hashes=place != "constraints-only")


def nesting_cases() -> Iterator[Case]:
    places = ("nested-r-twice", "remote-r", "constraints-only")
    for place, state in itertools.product(places, ("wrong", "missing")):
        yield _nesting_case(place, state)


def corpus() -> list[Case]:
    cases = [*form_cases(), *dirlink_cases(), *local_cases(), *fragment_cases(), *names_cases(),
             *extras_marker_cases(), *deps_cases(), *nesting_cases(), *metadata_ref_cases()]
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return cases


def materialise(scenario: Scenario, form: str, directory: Path, remote: str) -> list[str]:
    """Write the scenario's files in ``form`` under ``directory`` (served at
    ``remote``); return pip's arguments with the placeholders filled in."""
    def fill(text: str) -> str:
        return text.replace("{reqs}", str(directory)).replace("{remote}", remote)

    for relative, lines in scenario.files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(render(lines, form)))
    if scenario.setup is not None:
        scenario.setup()
    return [fill(arg) for arg in scenario.args]
