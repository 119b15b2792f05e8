"""Holes an attacker's review found, each proved closed (issue: never weaker than
pip's own hash mode).

* a directory posing as an archive (in a find-links location, on an index
  page, as a dependency) is refused unless the user named it;
* a local archive swapped after pip hashed it is never the one installed;
* a download directory entry that is a link elsewhere is checked and used from
  one private copy, which replaces the link;
* a local entry that is not a regular file (a device, a named pipe) is refused
  at once, never copied or hashed without end;
* what the hook decided a local entry is (a file, not a directory) is what pip
  goes on with, whatever is put there after the decision;
* weak URL-fragment hashes (``#md5=``, ``#sha1=``) never make an archive
  acceptable;
* the interpreter's bundled ensurepip wheels are trusted only in ensurepip's
  own run, not when an index serves them to any other command;
* a line whose environment marker excludes it gives no hash and no pin;
* while every missing hash is gathered, a direct reference (a URL or a path)
  in an unhashed archive's metadata makes pip fetch nothing and read nothing.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import hashlib
import os
import select
import shutil
import struct
import sysconfig
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests._support.archives import Archive, sdist, wheel
from tests._support.index import Index, canonical
from tests._support.outcomes import refused, write
from tests._support.pips import RESOLVERS
from tests._support.servers import ANY_LOCAL_PORT, base_url, serve, stop
from tests._support.swap import swap_inside_pip
from tests._support.venvs import Result, Venv, run

# CI runs these on every pip and Python it tests (scripts/test.sh).
pytestmark = pytest.mark.core


def source_directory(archive: Archive, parent: Path, dirname: str) -> Path:
    """Unpack an sdist (whose backend leaves a marker when run) as a directory
    called ``dirname``: a source tree that pip would build."""
    parent.mkdir(parents=True, exist_ok=True)
    tar = parent / ".tmp.tar.gz"
    tar.write_bytes(archive.data)
    with tarfile.open(tar) as tf:
        tf.extractall(parent)
    tar.unlink()
    target = parent / dirname
    (parent / f"{archive.name}-{archive.version}").rename(target)
    return target


# -- a directory posing as an archive --------------------------------------------


@pytest.fixture
def victim(markers: Path) -> Archive:
    """The genuine sdist the user hashed."""
    return sdist("victim", "1.0", marker_dir=markers)


@pytest.mark.parametrize("command", ["install", "download", "wheel"])
@pytest.mark.parametrize("hashed", [True, False], ids=["hashed", "unhashed"])
def test_directory_named_like_an_archive_in_find_links_is_refused(
        venv: Venv, victim, markers, tmp_path, command, hashed):
    links = tmp_path / "links"
    # Built from another source: its backend leaves the same marker if it runs.
    source_directory(sdist("victim", "1.0", marker_dir=markers, payload="EVIL = 1"),
                     links, "victim-1.0.tar.gz")
    req = write(tmp_path / "req.txt",
                victim.peep_block() if hashed else f"{victim.pin}\n")
    out = tmp_path / "out"
    extra = {"install": [], "download": ["-d", out], "wheel": ["-w", out]}[command]
    result = venv.pip(command, "-r", req, "--no-index", "--find-links", links, *extra)
    assert refused(result), str(result)
    assert "local directory" in result.output, str(result)
    assert list(markers.iterdir()) == [], "the directory's build backend ran"
    assert not venv.installed("victim")
    assert not out.exists() or list(out.iterdir()) == []


def test_file_url_to_a_directory_on_an_index_page_is_refused(venv: Venv, index: Index,
                                                             victim, markers, tmp_path):
    evil = source_directory(sdist("victim", "1.0", marker_dir=markers, payload="EVIL = 1"),
                            tmp_path / "anywhere", "dir")
    page = index.root / "simple" / "victim" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(f'<html><body><a href="{evil.as_uri()}#egg=victim-1.0">victim-1.0'
                    '</a></body></html>\n')
    req = write(tmp_path / "req.txt", victim.peep_block())
    result = venv.pip("install", "-r", req, "-i", index.url)
    assert refused(result), str(result)
    assert list(markers.iterdir()) == []
    assert not venv.installed("victim")


def test_directory_reached_as_a_dependency_is_refused(venv: Venv, victim, markers, tmp_path):
    links = tmp_path / "links"
    app = wheel("app", "1.0", requires=["victim==1.0"])
    app.write(links)
    source_directory(sdist("victim", "1.0", marker_dir=markers, payload="EVIL = 1"),
                     links, "victim-1.0.tar.gz")
    req = write(tmp_path / "req.txt", app.peep_block() + victim.peep_block())
    result = venv.pip("install", "-r", req, "--no-index", "--find-links", links)
    assert refused(result), str(result)
    assert list(markers.iterdir()) == []
    assert not venv.installed("app") and not venv.installed("victim")


def test_directory_reached_as_a_build_dependency_is_refused(venv: Venv, markers, tmp_path):
    links = tmp_path / "links"
    # "helper" is a build dependency of app's sdist; the directory named like
    # its archive is a backend that would run in the build environment.
    genuine_helper = wheel("helper", "1.0")
    source_directory(sdist("helper", "1.0", marker_dir=markers, payload="EVIL = 1"),
                     links, "helper-1.0.tar.gz")
    app = sdist("app", "1.0", marker_dir=markers, build_requires=["helper==1.0"])
    app.write(links)
    req = write(tmp_path / "req.txt", app.peep_block() + genuine_helper.peep_block())
    result = venv.pip("install", "-r", req, "--no-index", "--find-links", links)
    assert result.returncode != 0, str(result)
    assert not (markers / "helper-1.0").exists(), "the directory's build backend ran"
    assert not venv.installed("app")


def test_a_directory_the_user_names_is_still_built(venv: Venv, markers, tmp_path):
    project = source_directory(sdist("mine", "1.0", marker_dir=markers), tmp_path, "mine")
    req = write(tmp_path / "req.txt", "./mine\n")
    result = venv.pip("install", "-r", req, "--no-index", cwd=tmp_path)
    assert result.returncode == 0, str(result)
    assert venv.installed("mine")
    result = venv.pip("install", "--force-reinstall", "--no-index", project)
    assert result.returncode == 0, str(result)


# -- a local archive swapped after pip hashed it ---------------------------------


class _Inotify:
    """Linux inotify through ctypes: enough to learn when a file was read and closed."""

    IN_CLOSE_NOWRITE = 0x10

    def __init__(self, directory: Path) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK)
        assert self.fd >= 0, ctypes.get_errno()
        wd = libc.inotify_add_watch(self.fd, str(directory).encode(), self.IN_CLOSE_NOWRITE)
        assert wd >= 0, ctypes.get_errno()

    def closed_names(self, timeout: float) -> list[str]:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.fd, 65536)
        names, offset = [], 0
        while offset < len(data):
            _, _, _, length = struct.unpack_from("iIII", data, offset)
            raw = data[offset + 16: offset + 16 + length]
            names.append(raw.rstrip(b"\0").decode())
            offset += 16 + length
        return names

    def close(self) -> None:
        os.close(self.fd)


def test_local_archive_swapped_after_it_was_hashed_is_never_installed(venv: Venv, tmp_path):
    """An attacker who can write to the find-links directory replaces the
    archive the moment pip has read it once (inotify tells when). Whatever
    pip then does, it must install the bytes it verified, and record them."""
    links = tmp_path / "links"
    genuine = wheel("victim", "1.0", payload="GENUINE = True")
    evil = wheel("victim", "1.0", payload="TAMPERED = True")
    target = genuine.write(links)
    staged = tmp_path / "staged.whl"
    staged.write_bytes(evil.data)
    req = write(tmp_path / "req.txt", genuine.peep_block())
    watcher = _Inotify(links)
    swapped = threading.Event()
    stop = threading.Event()

    def swapper() -> None:
        deadline = time.monotonic() + 120  # bounded: one swap, two minutes at most
        while not stop.is_set() and time.monotonic() < deadline:
            if target.name in watcher.closed_names(0.2):
                os.replace(staged, target)
                swapped.set()
                return

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    try:
        result = venv.pip("install", "-r", req, "--no-index", "--find-links", links)
    finally:
        stop.set()
        thread.join(10)
        watcher.close()
    assert swapped.is_set(), "the archive was never read: the test proves nothing"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == evil.sha256
    if result.returncode == 0:
        installed = (venv.site_packages / "victim" / "__init__.py").read_text()
        assert "GENUINE" in installed and "TAMPERED" not in installed, str(result)
        records = list(venv.site_packages.glob("victim-1.0.dist-info/PEEP_HOOK.json"))
        assert records and genuine.sha256 in records[0].read_text()
    else:
        assert refused(result), str(result)
        assert not venv.installed("victim")


def test_genuine_archive_already_in_the_download_directory_is_kept(venv: Venv, tmp_path):
    """An archive already in ``pip download -d``'s directory is checked through
    a private copy too; a genuine one stays where it is."""
    out = tmp_path / "out"
    genuine = wheel("victim", "1.0", payload="GENUINE = True")
    evil = wheel("victim", "1.0", payload="TAMPERED = True")
    target = genuine.write(out)
    staged = tmp_path / "staged.whl"
    staged.write_bytes(evil.data)
    req = write(tmp_path / "req.txt", genuine.peep_block())
    result = venv.pip("download", "-r", req, "--no-index", "--find-links", out, "-d", out)
    assert result.returncode == 0, str(result)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == genuine.sha256
    # pip names the user's file, not the private copy it checked.
    assert f"File was already downloaded {target}" in result.output, str(result)
    assert "peep-hook-copies" not in result.output, str(result)


# -- a download directory entry that points elsewhere ------------------------------


@pytest.mark.parametrize("command", ["download", "wheel"])
def test_symlink_in_the_download_directory_is_checked_and_used_from_one_copy(
        venv: Venv, markers, tmp_path, command):
    """``out/victim-1.0.tar.gz`` is a link to a file elsewhere, which its owner
    swaps for a malicious sdist after pip hashed it and just before pip
    unpacks it. pip must build the bytes it checked, and leave in ``out`` a
    file of its own holding them, not the link."""
    links, out, elsewhere = tmp_path / "links", tmp_path / "out", tmp_path / "elsewhere"
    (tmp_path / "genuine-ran").mkdir()
    victim = sdist("victim", "1.0", marker_dir=tmp_path / "genuine-ran")
    victim.write(links)
    target = victim.write(elsewhere)
    out.mkdir()
    (out / victim.filename).symlink_to(target)
    staged = tmp_path / "staged.tar.gz"
    staged.write_bytes(sdist("victim", "1.0", marker_dir=markers, payload="EVIL = 1").data)
    env = swap_inside_pip(venv, module="pip._internal.operations.prepare",
                          function="unpack_file", when="before", source=staged, target=target)
    req = write(tmp_path / "req.txt", victim.peep_block())
    result = venv.pip(command, "-r", req, "--no-index", "--find-links", links,
                      "-d" if command == "download" else "-w", out, env=env)
    assert not staged.exists(), "the swap never happened: the test proves nothing"
    assert result.returncode == 0, str(result)
    assert list(markers.iterdir()) == [], "the swapped sdist was built\n" + str(result)
    entry = out / victim.filename
    assert not entry.is_symlink(), "the link is still in the download directory"
    assert hashlib.sha256(entry.read_bytes()).hexdigest() == victim.sha256


# -- local entries that are not regular files --------------------------------------


def bounded_pip(venv: Venv, *args, env=None) -> Result:
    """pip with limits (file size, CPU time), so that a copy growing without
    end or a hash of an endless file fails the test instead of the machine."""
    return run(["sh", "-c", 'ulimit -f 40000; ulimit -t 30; exec "$@"', "sh",
                venv.bin / "pip", *args], env=env)


@pytest.mark.parametrize("place, what", [
    ("find-links", "link to /dev/zero"),
    ("find-links", "named pipe"),
    ("download-dir", "link to /dev/zero"),
])
def test_local_entry_that_is_not_a_regular_file_is_refused_at_once(
        venv: Venv, victim, tmp_path, place, what):
    links, out = tmp_path / "links", tmp_path / "out"
    out.mkdir()
    if place == "download-dir":
        victim.write(links)
    links.mkdir(exist_ok=True)
    entry = (links if place == "find-links" else out) / victim.filename
    if what == "named pipe":
        os.mkfifo(entry)
    else:
        entry.symlink_to("/dev/zero")
    req = write(tmp_path / "req.txt", victim.peep_block())
    result = bounded_pip(venv, "download", "-r", req, "--no-index", "--find-links", links,
                         "-d", out)
    assert refused(result), str(result)
    assert "not a regular file" in result.stderr, str(result)
    assert [p.name for p in out.iterdir()] == ([victim.filename] if place == "download-dir"
                                               else [])


# -- decide once, use what was decided ---------------------------------------------


def test_find_links_file_swapped_for_a_directory_after_the_check_is_never_built(
        venv: Venv, victim, markers, tmp_path):
    """The hook decides that ``links/victim-1.0.tar.gz`` is a file, and right
    after that decision an attacker puts a source tree in its place. pip must
    go on with what was decided: the tree is never built."""
    links = tmp_path / "links"
    entry = victim.write(links)
    staged = source_directory(sdist("victim", "1.0", marker_dir=markers, payload="EVIL = 1"),
                              tmp_path / "staging", "tree")
    env = swap_inside_pip(venv, module="pip._internal.operations.prepare",
                          function="RequirementPreparer._get_linked_req_hashes", when="after",
                          source=staged, target=entry)
    req = write(tmp_path / "req.txt", victim.peep_block())
    result = venv.pip("install", "-r", req, "--no-index", "--find-links", links, env=env)
    assert not staged.exists(), "the swap never happened: the test proves nothing"
    assert list(markers.iterdir()) == [], "the swapped-in tree was built\n" + str(result)
    assert refused(result), str(result)
    assert not venv.installed("victim")


# -- weak URL-fragment hashes ----------------------------------------------------


def _url(index: Index, archive: Archive, fragment: str) -> str:
    return f"{index.base}/files/{archive.filename}#{fragment}"


@pytest.mark.parametrize("algorithm", ["md5", "sha1"])
def test_weak_fragment_hash_does_not_excuse_a_wrong_sha256(venv: Venv, index: Index, markers,
                                                           tmp_path, algorithm):
    served = sdist("app", "1.0", marker_dir=markers, payload="SERVED = 1")
    index.publish(served)
    weak = hashlib.new(algorithm, served.data).hexdigest()
    wrong = sdist("app", "1.0", marker_dir=tmp_path, payload="OTHER = 1")
    req = write(tmp_path / "req.txt",
                f"# sha256: {wrong.peep}\n{_url(index, served, f'egg=app&{algorithm}={weak}')}\n")
    result = venv.pip("install", "-r", req, "--no-index")
    assert refused(result), str(result)
    assert f"ignoring the #{algorithm}= hash" in result.output, str(result)
    assert list(markers.iterdir()) == []
    assert not venv.installed("app")


def test_weak_fragment_hash_on_the_command_line_is_no_hash(venv: Venv, index: Index, markers,
                                                          tmp_path):
    served = sdist("app", "1.0", marker_dir=markers)
    index.publish(served)
    md5 = hashlib.md5(served.data).hexdigest()
    result = venv.pip("install", "--no-index", _url(index, served, f"md5={md5}"))
    assert refused(result), str(result)
    assert "has no hash" in result.output, str(result)
    assert list(markers.iterdir()) == []


def test_strong_hash_above_a_weak_fragment_url_still_installs(venv: Venv, index: Index, markers,
                                                             tmp_path):
    served = wheel("app", "1.0")
    index.publish(served)
    md5 = hashlib.md5(served.data).hexdigest()
    req = write(tmp_path / "req.txt",
                f"# sha256: {served.peep}\n{_url(index, served, f'md5={md5}')}\n")
    result = venv.pip("install", "-r", req, "--no-index")
    assert result.returncode == 0, str(result)
    assert venv.installed("app")


# -- the interpreter's bundled wheels --------------------------------------------


def _bundled_wheel() -> Path:
    bundled = Path(sysconfig.get_paths()["stdlib"]) / "ensurepip" / "_bundled"
    return sorted(bundled.glob("*.whl"))[-1]


def test_bundled_ensurepip_wheel_served_by_an_index_is_not_trusted(venv: Venv, index: Index,
                                                                  tmp_path):
    """A compromised index serving the interpreter's own (old) bundled wheel to
    an ordinary command: a downgrade, refused like any unhashed archive."""
    bundled = _bundled_wheel()
    name, version = bundled.name.split("-")[:2]
    shutil.copy(bundled, index.files / bundled.name)
    index._write_project_page(name)
    out = tmp_path / "out"
    result = venv.pip("download", "--no-deps", "-d", out, "-i", index.url, f"{name}=={version}")
    assert refused(result), str(result)
    assert "has no hash" in result.output, str(result)
    assert not out.exists() or list(out.iterdir()) == []
    # As an unpinned dependency of a hashed requirement, the same.
    app = wheel("app", "1.0", requires=[canonical(name)])
    index.publish(app)
    result = venv.pip("download", "-d", out, "-i", index.url, "-r",
                      write(tmp_path / "req.txt", app.peep_block()))
    assert refused(result), str(result)
    assert not out.exists() or list(out.iterdir()) == []


# -- a line whose environment marker excludes it -----------------------------------

# Never true here, as ``sys_platform == "win32"`` is never true on Linux.
EXCLUDED = 'python_version < "3"'


def excluded_block(archive: Archive) -> str:
    return f"# sha256: {archive.peep}\n{archive.pin} ; {EXCLUDED}\n"


@pytest.mark.parametrize("place", ["requirements", "constraints"])
def test_hash_on_a_line_whose_marker_excludes_it_does_not_count(venv: Venv, index: Index,
                                                                tmp_path, place):
    """pip ignores such a line, hash and all: a dependency hashed only there
    has no hash, and pip's own hash mode refuses it."""
    dep = wheel("dep", "0.9", payload="EXCLUDED_HERE = True")
    app = wheel("app", "1.0", requires=["dep"])
    index.publish(app, dep)
    if place == "requirements":
        args = ["-r", write(tmp_path / "req.txt", app.peep_block() + excluded_block(dep))]
    else:
        args = ["-r", write(tmp_path / "req.txt", app.peep_block()),
                "-c", write(tmp_path / "constraints.txt", excluded_block(dep))]
    result = venv.pip("install", *args, "-i", index.url)
    assert refused(result), str(result)
    assert f"# sha256: {dep.peep}" in result.output, str(result)  # the block to add
    assert not venv.installed("dep") and not venv.installed("app")


def test_installed_distribution_is_not_vouched_for_by_a_line_its_marker_excludes(
        venv: Venv, index: Index, tmp_path):
    """Installed before the hook (no record), a dependency is reinstalled from
    an archive verified now; a hash on a line pip ignores is no such proof."""
    dep = wheel("dep", "0.9")
    app = wheel("app", "1.0", requires=["dep"])
    index.publish(app, dep)
    first = venv.pip("install", "-i", index.url, dep.pin, env={"PEEP_HOOK": "off"})
    assert first.returncode == 0, str(first)
    req = write(tmp_path / "req.txt", app.peep_block() + excluded_block(dep))
    result = venv.pip("install", "-r", req, "-i", index.url)
    assert refused(result), str(result)
    assert f"# sha256: {dep.peep}" in result.output, str(result)  # the block to add
    assert not venv.installed("app")
# -- direct references in the metadata of an unhashed archive ---------------------


class _Recorder:
    """An HTTP server on 127.0.0.1 that records every request and serves ``body``."""

    def __init__(self, body: bytes) -> None:
        self.requests: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = serve(ThreadingHTTPServer(ANY_LOCAL_PORT, Handler))
        self.url = base_url(self._server)

    def close(self) -> None:
        stop(self._server)


@RESOLVERS
def test_direct_references_in_an_unhashed_wheels_metadata_are_never_followed(
        venv: Venv, index: Index, tmp_path, resolver):
    """Plain pip stops at the unhashed wheel; the hook reads its metadata to
    list every missing block in one run, but what that metadata says must not
    make pip request a URL (with the user's credentials for its host) or copy
    and hash a local file. Dependencies it names plainly are still looked up
    in the user's index, and the one-run report names both references."""
    secrets = tmp_path / "secrets"
    secret = write(secrets / "id_rsa", "PRIVATE KEY\n")
    recorder = _Recorder(wheel("probe", "1.0").data)
    probe = f"{recorder.url}/probe-1.0-py3-none-any.whl"
    # One reference among the wheel's own dependencies, one among an extra's
    # (which pips from 23.3 make on behalf of the requirement, not the wheel).
    # wheel() writes no Provides-Extra; it rides on a requirement's line.
    app = wheel("app", "1.0", requires=[f"probe @ {probe}", "plain>=1",
                                       f'leak @ {secret.as_uri()} ; extra == "x"'
                                       "\nProvides-Extra: x"])
    plain, other = wheel("plain", "1.0"), wheel("other", "1.0")
    index.publish(app, plain, other)
    req = write(tmp_path / "req.txt", f"app[x]==1.0\n{other.pin}\n")
    watcher = _Inotify(secrets)
    try:
        result = venv.pip("install", "-r", req, "-i", index.url, *resolver)
        read = [name for name in watcher.closed_names(0) if name]
    finally:
        watcher.close()
        recorder.close()
    assert refused(result), str(result)
    assert recorder.requests == [], str(result)
    assert read == [], "the secret was read"
    digest = hashlib.sha256(secret.read_bytes())
    assert digest.hexdigest() not in result.output, str(result)
    assert base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=") not in result.output
    for reference in (f"probe @ {probe}", f"leak @ {secret.as_uri()}"):
        assert f"not fetched: {reference}" in result.stderr, str(result)
    for archive in (app, plain, other):  # the one-run report is kept
        assert f"# sha256: {archive.peep}" in result.stderr, str(result)
        assert not venv.installed(archive.name)
