"""Hostile servers, interruption and concurrency (issue 7, items 3 to 5).

Whatever the index or the operator does to a running ``pip install -r``,
nothing unverified is installed, pip exits non-zero, and peep-hook neither
raises a traceback of its own nor leaves its temporary files behind.

The servers are scripted (:class:`tests._support.hostile.HostileIndex`): a
PEP 503 page per project, and the archive request answered with whatever the
test asks for (a truncated body, a redirect, silence, a slow dribble). Every
server binds 127.0.0.1 and stops when the test ends, cutting short any
response it is still stalling or dribbling.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest

from tests._support.archives import Archive, backend_wheel, sdist, tampered, wheel
from tests._support.hostile import (
    HostileIndex,
    body,
    dribble,
    redirect,
    silent,
    truncated,
    waiting_for,
)
from tests._support.outcomes import refused, write
from tests._support.pips import PIP
from tests._support.venvs import Result, Venv, clean_env


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostileIndex]]:
    """A factory of :class:`HostileIndex`, all closed when the test ends."""
    made: list[HostileIndex] = []

    def make(host: str = "127.0.0.1", **kwargs) -> HostileIndex:
        made.append(HostileIndex(host, **kwargs))
        return made[-1]
    yield make
    for index in made:
        index.close()


# -- helpers -------------------------------------------------------------------


_HOOK_FRAME = re.compile(r'File "[^"]*[/\\]peep_hook[/\\]')


def hook_traceback(result: Result) -> bool:
    """A traceback raised in peep-hook's own code: its innermost frame is
    peep-hook's. (pip's own errors pass through the hook's wrappers around
    pip's resolver on their way out; those frames do not make them the hook's.)"""
    innermost = None
    for line in result.output.splitlines():
        stripped = line.strip()
        if stripped.startswith('File "'):
            innermost = stripped
        elif innermost is not None and stripped and not line.startswith((" ", "\t")):
            # The exception line closes a traceback: judge its last frame.
            if _HOOK_FRAME.search(innermost):
                return True
            innermost = None
    return innermost is not None and _HOOK_FRAME.search(innermost) is not None


def failed_cleanly(result: Result) -> bool:
    """pip did not succeed, and not because peep-hook broke: non-zero, and no
    traceback through peep-hook (pip's own tracebacks are reported, not
    blamed on the hook)."""
    return result.returncode != 0 and not hook_traceback(result)


def installed_module(venv: Venv, name: str) -> str:
    return (venv.site_packages / name / "__init__.py").read_text()


def padding(size: int) -> str:
    """Python source of about ``size`` bytes that does not compress (the test
    wheels are stored, not deflated, anyway)."""
    n = size // 2  # Random.randbytes(n), which Python 3.8 lacks:
    return f"PAD = {random.Random(size).getrandbits(8 * n).to_bytes(n, 'little').hex()!r}"


def padded_wheel(name: str, version: str, size: int) -> Archive:
    """A wheel of about ``size`` bytes."""
    return wheel(name, version, payload=padding(size))


def hook_temp_files(tmpdir: Path) -> list[str]:
    return sorted(name for name in os.listdir(tmpdir) if name.startswith("peep-hook"))


def start_pip(venv: Venv, args: Sequence[str | os.PathLike],
              env: dict[str, str]) -> subprocess.Popen:
    """pip in its own process group, as a shell runs a foreground job: with
    SIGINT and SIGTERM at their defaults, even when the test run itself was
    started in the background (where a shell leaves SIGINT ignored)."""
    return subprocess.Popen(
        [str(venv.bin / "pip"), *map(str, args)], env=clean_env(env),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True, preexec_fn=_default_signals,
    )


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


# -- hostile servers -----------------------------------------------------------


@pytest.mark.parametrize("how", ["closed", "reset"])
def test_truncated_download_is_not_installed(venv: Venv, hostile, tmp_path, how):
    # Content-Length promises the whole archive; half arrives, then the server
    # closes the connection (or aborts it).
    alpha = padded_wheel("alpha", "1.0", 20_000)
    index = hostile()
    index.serve(alpha, truncated(alpha.data, len(alpha.data) // 2, reset=how == "reset"))
    req = write(tmp_path / "requirements.txt", alpha.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url, "--cache-dir", tmp_path / "cache")

    assert index.downloads(alpha) >= 1, str(result)
    assert failed_cleanly(result), str(result)
    assert not venv.installed("alpha")


def test_empty_download_is_refused_as_empty(venv, hostile, tmp_path):
    alpha = wheel("alpha", "1.0")
    index = hostile()
    index.serve(alpha, body(b""))  # Content-Length: 0
    req = write(tmp_path / "requirements.txt", alpha.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url, "--cache-dir", tmp_path / "cache")

    assert refused(result), str(result)
    assert not venv.installed("alpha")
    assert "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" in result.stderr
    assert "the archive is empty" in result.stderr
    assert "truncated" in result.stderr
    assert f"# sha256: {alpha.peep}" in result.stderr


def test_redirect_to_another_host_is_checked_like_any_download(venv, hostile, tmp_path):
    alpha = wheel("alpha", "1.0")
    index, elsewhere = hostile(), hostile("localhost")
    moved = f"/moved/{alpha.filename}"
    index.serve(alpha, redirect(f"{elsewhere.base}{moved}"))
    elsewhere.routes[moved] = body(tampered(alpha).data)
    req = write(tmp_path / "requirements.txt", alpha.peep_block())
    args = ("install", "-r", req, "-i", index.url, "--cache-dir", tmp_path / "cache")

    result = venv.pip(*args)

    assert refused(result), str(result)
    assert elsewhere.requests == [moved]  # the redirect was followed
    assert not venv.installed("alpha")
    assert "does not match" in result.stderr
    assert f"# sha256: {alpha.peep}" in result.stderr

    # Control: the same redirect to the genuine archive installs it.
    elsewhere.routes[moved] = body(alpha.data)
    ok = venv.pip(*args)

    assert ok.returncode == 0, str(ok)
    assert elsewhere.requests == [moved, moved]
    assert "TAMPERED" not in installed_module(venv, "alpha")


@pytest.mark.parametrize("when", ["before-headers", "mid-body"])
def test_slow_server_hits_pips_timeout(venv, hostile, tmp_path, when):
    alpha = padded_wheel("alpha", "1.0", 20_000)
    index = hostile()
    keep = len(alpha.data) // 2 if when == "mid-body" else 0
    index.serve(alpha, silent(alpha.data, 30, keep=keep))
    req = write(tmp_path / "requirements.txt", alpha.peep_block())

    began = time.monotonic()
    result = venv.pip("install", "-r", req, "-i", index.url, "--cache-dir", tmp_path / "cache",
                      "--timeout", "1", "--retries", "0")
    took = time.monotonic() - began

    assert index.downloads(alpha) >= 1, str(result)
    assert failed_cleanly(result), str(result)
    assert not venv.installed("alpha")
    assert took < 20, f"pip took {took:.1f} s against a server silent for 30 s\n{result}"


# -- interruption --------------------------------------------------------------


@pytest.fixture
def private_tmp(tmp_path: Path) -> Path:
    path = tmp_path / "tmpdir"
    path.mkdir()
    return path


def _interrupt(venv: Venv, args: Sequence[str | os.PathLike], tmpdir: Path,
               index: HostileIndex, signum: int, *, hand_off: bool) -> Result:
    """Start pip, wait until the archive is arriving (and, with ``hand_off``,
    until the hook's hand-off to the build child exists), then signal pip's
    process group, as Ctrl-C in a shell or a service manager's stop does."""
    proc = start_pip(venv, args, {"TMPDIR": str(tmpdir)})
    try:
        assert index.sending.wait(60), "pip never started downloading"
        if hand_off:
            assert wait_until(lambda: bool(hook_temp_files(tmpdir)), 10), (
                f"no peep-hook hand-off appeared in {tmpdir}: {os.listdir(tmpdir)}")
        time.sleep(0.3)  # well into the download
        assert proc.poll() is None, "pip finished before it could be interrupted"
        os.killpg(proc.pid, signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        # Let any child pip of the group finish dying before files are checked.
        if not wait_until(lambda: _group_gone(proc.pid), 10):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return Result([str(a) for a in args], proc.returncode, stdout, stderr)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_wheel_download(venv: Venv, hostile, index, tmp_path, private_tmp, signum):
    alpha = padded_wheel("alpha", "1.0", 200_000)
    slow = hostile()
    slow.serve(alpha, dribble(alpha.data, 1024, 0.1))  # 20 s for the whole wheel
    req = write(tmp_path / "requirements.txt", alpha.peep_block())
    cache = tmp_path / "cache"

    result = _interrupt(venv, ["install", "-r", req, "-i", slow.url, "--cache-dir", cache],
                        private_tmp, slow, signum, hand_off=False)

    assert failed_cleanly(result), str(result)
    assert not venv.installed("alpha")
    assert hook_temp_files(private_tmp) == []

    # The next run, against a server that behaves, installs.
    index.publish(alpha)
    again = venv.pip("install", "-r", req, "-i", index.url, "--cache-dir", cache,
                     env={"TMPDIR": str(private_tmp)})
    assert again.returncode == 0, str(again)
    assert venv.installed("alpha")
    assert hook_temp_files(private_tmp) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_while_build_dependency_downloads(venv: Venv, hostile, index, tmp_path,
                                                     private_tmp, markers, signum):
    # The only temporary file peep-hook makes: the pins handed to pip's build
    # child, which exists while the child fetches the build backend.
    backend = backend_wheel("slowbackend", "1.0", marker_dir=markers, payload=padding(200_000))
    app = sdist("slowapp", "1.0", marker_dir=markers, backend="slowbackend",
                build_requires=["slowbackend"])
    slow = hostile()
    slow.serve(app)
    slow.serve(backend, dribble(backend.data, 1024, 0.1))
    req = write(tmp_path / "requirements.txt", app.peep_block())
    constraints = write(tmp_path / "constraints.txt", backend.peep_block())
    args = ["install", "-r", req, "-c", constraints, "--cache-dir", tmp_path / "cache"]

    result = _interrupt(venv, [*args, "-i", slow.url], private_tmp, slow, signum,
                        hand_off=True)

    assert failed_cleanly(result), str(result)
    assert not venv.installed("slowapp")
    assert not (markers / "slowbackend-1.0").exists()  # the backend never ran
    assert hook_temp_files(private_tmp) == []

    index.publish(app, backend)
    again = venv.pip(*args, "-i", index.url, env={"TMPDIR": str(private_tmp)})
    assert again.returncode == 0, str(again)
    assert venv.installed("slowapp")
    assert hook_temp_files(private_tmp) == []


# -- concurrency ---------------------------------------------------------------


def test_four_concurrent_installs_sharing_a_cache(venv: Venv, make_venv, hostile, tmp_path,
                                                  markers):
    # Three installs from a genuine index and one from a tampered one, at the
    # same moment, in four environments with one --cache-dir. The tampered
    # index alters the sdist (pip stops at the first mismatch, so one altered
    # archive is what a run can show). Both indexes mark their files cacheable
    # and are --trusted-host, so pips that cache plain-HTTP responses (21+)
    # store them in the shared cache; pip also builds and caches the wheel.
    (markers / "genuine").mkdir()
    (markers / "tampered").mkdir()
    alpha = wheel("alpha", "1.0")
    beta = sdist("beta", "2.0", marker_dir=markers / "genuine")
    bad_beta = tampered(beta, marker_dir=markers / "tampered")
    together = threading.Barrier(4, timeout=30)  # all four wait on alpha's download
    genuine, compromised = hostile(cacheable=True), hostile(cacheable=True)
    genuine.serve(alpha, waiting_for(together, alpha.data))
    genuine.serve(beta)
    compromised.serve(alpha, waiting_for(together, alpha.data))
    compromised.serve(bad_beta)
    req = write(tmp_path / "requirements.txt", alpha.peep_block() + beta.peep_block())
    cache = tmp_path / "shared-cache"

    def install(env: Venv, index: HostileIndex) -> Result:
        # --timeout: pip's default (15 s) must not run out at the barrier.
        return env.pip("install", "-r", req, "-i", index.url, "--trusted-host", "127.0.0.1",
                       "--cache-dir", cache, "--timeout", "60")

    venvs = [venv, make_venv(), make_venv(), make_venv()]
    indexes = [genuine, genuine, genuine, compromised]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(install, venvs, indexes))

    assert not together.broken, "the four installs did not overlap:\n" + "\n".join(
        map(str, results))
    for env, result in zip(venvs[:3], results[:3]):
        assert result.returncode == 0, str(result)
        assert "TAMPERED" not in installed_module(env, "beta")
    assert refused(results[3]), str(results[3])
    assert f"# sha256: {beta.peep}" in results[3].stderr
    assert not venvs[3].installed("alpha") and not venvs[3].installed("beta")
    assert list((markers / "tampered").iterdir()) == []  # its sdist never built
    assert compromised.downloads(bad_beta) == 1

    # Later, with the cache as the four runs left it: the tampered index is
    # still refused, and the genuine one still installs.
    later = venvs[1]
    later.reset()
    genuine.serve(alpha)
    compromised.serve(alpha)

    refused_later = install(later, compromised)

    assert refused(refused_later), str(refused_later)
    assert f"# sha256: {beta.peep}" in refused_later.stderr
    if PIP >= (21, 0):  # the altered sdist came from the shared cache, not the index
        assert compromised.downloads(bad_beta) == 1, str(refused_later)
    assert not later.installed("alpha") and not later.installed("beta")
    assert list((markers / "tampered").iterdir()) == []

    ok_later = install(later, genuine)

    assert ok_later.returncode == 0, str(ok_later)
    assert "TAMPERED" not in installed_module(later, "beta")
    for env in venvs[1:]:
        env.reset()
