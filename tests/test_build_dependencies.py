"""Build dependencies: fetched for build isolation, verified like everything else.

The sdist under test names a build backend that is itself a wheel on the
local index; importing the backend leaves a marker, so a test can prove the
backend never ran when its archive was not verified.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests._support.archives import Archive, backend_wheel, sdist, setup_py_sdist, wheel
from tests._support.outcomes import exit_1_without_traceback
from tests._support.pips import BUILD_MODES, MODE_IDS, PIP
from tests._support.venvs import Venv


def shows_block(output: str, archive: Archive) -> bool:
    """The ready-to-paste block, possibly indented inside the child pip's output."""
    pattern = rf"# sha256: {re.escape(archive.peep)}\n\s*{re.escape(archive.pin)}\n"
    return re.search(pattern, output) is not None


@pytest.fixture
def project(index, markers):
    """An sdist built by a backend from the index, and that backend's wheel."""
    backend = backend_wheel("markerbackend", "1.0", marker_dir=markers)
    app = sdist("app", "1.0", marker_dir=markers, backend="markerbackend",
                build_requires=["markerbackend>=0.5"])
    return app, backend


def backend_ran(markers: Path) -> bool:
    return (markers / "markerbackend-1.0").exists()


@pytest.mark.parametrize("mode", BUILD_MODES, ids=MODE_IDS)
def test_backend_pinned_in_requirements_file_installs(venv: Venv, index, tmp_path, markers,
                                                      project, mode):
    app, backend = project
    index.publish(app, backend)
    req = tmp_path / "requirements.txt"
    req.write_text(backend.peep_block() + app.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url, *mode)

    assert result.returncode == 0, str(result)
    assert venv.installed("app") and backend_ran(markers)
    assert venv.installed("markerbackend")  # listed in the file: installed too, as peep did


@pytest.mark.parametrize("mode", BUILD_MODES, ids=MODE_IDS)
def test_backend_pinned_in_constraints_file_installs_without_installing_it(
        venv, index, tmp_path, markers, project, mode):
    app, backend = project
    index.publish(app, backend)
    (tmp_path / "constraints.txt").write_text(backend.peep_block())
    req = tmp_path / "requirements.txt"
    req.write_text(app.peep_block())

    result = venv.pip("install", "-r", req, "-c", tmp_path / "constraints.txt",
                      "-i", index.url, *mode)

    assert result.returncode == 0, str(result)
    assert venv.installed("app") and backend_ran(markers)
    assert not venv.installed("markerbackend")


@pytest.mark.parametrize("mode", BUILD_MODES, ids=MODE_IDS)
def test_tampered_backend_is_refused_before_it_runs(venv, index, tmp_path, markers, project, mode):
    app, backend = project
    evil = backend_wheel("markerbackend", "1.0", marker_dir=markers, payload="EVIL = 1")
    index.publish(app, evil)
    req = tmp_path / "requirements.txt"
    req.write_text(backend.peep_block() + app.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url, *mode)

    assert exit_1_without_traceback(result), str(result)
    assert not backend_ran(markers)
    assert not venv.installed("app") and not venv.installed("markerbackend")
    assert f"# sha256: {backend.peep}" in result.output  # expected
    assert f"# sha256: {evil.peep}" in result.output  # got


@pytest.mark.parametrize("mode", BUILD_MODES, ids=MODE_IDS)
def test_unlisted_backend_is_refused_with_the_block_to_add(venv, index, tmp_path, markers,
                                                          project, mode):
    app, backend = project
    index.publish(app, backend)
    req = tmp_path / "requirements.txt"
    req.write_text(app.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url, *mode)

    assert exit_1_without_traceback(result), str(result)
    assert not backend_ran(markers)
    assert not venv.installed("app")
    assert shows_block(result.output, backend)
    assert "Build dependencies of app==1.0 (app-1.0.tar.gz)" in result.output
    assert "markerbackend" in result.output and str(req) in result.output


def test_unlisted_dependency_of_a_build_dependency_is_refused(venv, index, tmp_path, markers):
    helper = wheel("helper", "2.0")
    backend = backend_wheel("markerbackend", "1.0", marker_dir=markers)
    deps_backend = _with_requires(backend, ["helper>=1"], markers)
    app = sdist("app", "1.0", marker_dir=markers, backend="markerbackend",
                build_requires=["markerbackend"])
    index.publish(app, deps_backend, helper)
    req = tmp_path / "requirements.txt"
    req.write_text(app.peep_block() + deps_backend.peep_block())

    refused_run = venv.pip("install", "-r", req, "-i", index.url)
    assert exit_1_without_traceback(refused_run), str(refused_run)
    assert shows_block(refused_run.output, helper)
    assert not backend_ran(markers)

    (tmp_path / "constraints.txt").write_text(helper.peep_block())
    ok = venv.pip("install", "-r", req, "-c", tmp_path / "constraints.txt", "-i", index.url)
    assert ok.returncode == 0, str(ok)
    assert venv.installed("app") and backend_ran(markers)


def _with_requires(backend: Archive, requires: list[str], markers: Path) -> Archive:
    """The backend wheel again, declaring dependencies of its own."""
    import io
    import zipfile

    from tests._support.archives import wheel as make_wheel

    with zipfile.ZipFile(io.BytesIO(backend.data)) as zf:
        code = zf.read("markerbackend/__init__.py").decode()
    payload = code.split("\n", 1)[1]  # drop the VERSION line wheel() adds back
    return make_wheel("markerbackend", "1.0", requires=requires, payload=payload)


def test_pin_that_does_not_satisfy_the_build_requirement_is_refused(venv, index, tmp_path,
                                                                   markers):
    backend = backend_wheel("markerbackend", "1.0", marker_dir=markers)
    app = sdist("app", "1.0", marker_dir=markers, backend="markerbackend",
                build_requires=["markerbackend>=2"])
    index.publish(app, backend)
    req = tmp_path / "requirements.txt"
    req.write_text(app.peep_block() + backend.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert exit_1_without_traceback(result), str(result)
    assert "markerbackend>=2, but" in result.output and "pins 1.0" in result.output
    assert not backend_ran(markers)


@pytest.mark.parametrize("mode", BUILD_MODES, ids=MODE_IDS)
def test_build_pins_split_by_marker_pin_the_version_whose_marker_holds(venv, index, tmp_path,
                                                                       markers, mode):
    """Two pins, one per interpreter, as for setuptools 44 on Python 2 and 69 on
    Python 3: the build gets the one for this interpreter, not the newest the
    index offers, which the excluded line's hash would make acceptable."""
    old, new = (backend_wheel("flitlike", v, marker_dir=markers) for v in ("1.0", "2.0"))
    app = sdist("app", "1.0", marker_dir=markers, backend="flitlike",
                build_requires=["flitlike"])
    index.publish(app, old, new)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(f'# sha256: {old.peep}\nflitlike==1.0 ; python_version >= "3"\n'
                           f'# sha256: {new.peep}\nflitlike==2.0 ; python_version < "3"\n')
    req = tmp_path / "requirements.txt"
    req.write_text(app.peep_block())

    result = venv.pip("install", "-r", req, "-c", constraints, "-i", index.url, *mode)

    assert result.returncode == 0, str(result)
    assert (markers / "flitlike-1.0").exists(), str(result)
    assert not (markers / "flitlike-2.0").exists(), "the excluded version was built with"


def test_no_build_isolation_fetches_nothing_for_the_build(venv, index, tmp_path, markers):
    # The sdist's own in-tree backend; its declared build requirement is not
    # needed without isolation and must not be fetched.
    app = sdist("app", "1.0", marker_dir=markers, build_requires=["notonindex"])
    index.publish(app)
    req = tmp_path / "requirements.txt"
    req.write_text(app.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url, "--no-build-isolation")

    assert result.returncode == 0, str(result)
    assert venv.installed("app")


if PIP >= (26, 2):  # --use-feature venv-isolation exists from pip 26.2

    def test_venv_isolation_is_refused_because_its_child_cannot_be_checked(
            venv, index, tmp_path, markers, project):
        app, backend = project
        index.publish(app, backend)
        req = tmp_path / "requirements.txt"
        req.write_text(backend.peep_block() + app.peep_block())

        result = venv.pip("install", "-r", req, "-i", index.url,
                          "--use-feature", "venv-isolation")

        assert exit_1_without_traceback(result), str(result)
        assert "venv-isolation" in result.output
        assert not backend_ran(markers) and not venv.installed("app")


@pytest.mark.parametrize("content", [None, "not json", '{"format": "peep-hook-pins/1", '
                                     '"payload": "{}", "sha256": "0000"}'])
def test_child_with_missing_or_corrupt_handoff_refuses(venv, index, tmp_path, content):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    handoff = tmp_path / "pins.json"
    if content is not None:
        handoff.write_text(content)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url,
                      env={"PEEP_HOOK_HANDOFF": str(handoff)})

    assert exit_1_without_traceback(result), str(result)
    assert "handed over by the parent pip are unusable" in result.output
    assert not venv.installed("alpha")


def test_handoff_files_are_removed_after_the_build(venv, index, tmp_path, markers, project):
    app, backend = project
    index.publish(app, backend)
    req = tmp_path / "requirements.txt"
    req.write_text(backend.peep_block() + app.peep_block())
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()

    result = venv.pip("install", "-r", req, "-i", index.url, env={"TMPDIR": str(private_tmp)})

    assert result.returncode == 0, str(result)
    assert [p for p in private_tmp.iterdir() if p.name.startswith("peep-hook-")] == []


# -- setup_requires: setuptools' own fetching ------------------------------------------

OLD_SETUPTOOLS = "41.6.0"  # fetches setup_requires with easy_install (42 and newer: pip)


# setuptools 41 needs distutils, gone in Python 3.12: the case exists up to 3.11.
if sys.version_info < (3, 12):
    def test_setup_requires_fetched_by_old_setuptools_easy_install_is_refused(
            venv, index, tmp_path, markers, wheelhouse):
        # A peep-era environment: setuptools 41.6.0, pinned with hashes long ago.
        (setuptools,) = wheelhouse.glob(f"setuptools-{OLD_SETUPTOOLS}-*.whl")
        assert venv.pip("install", "--no-index", setuptools,
                        env={"PEEP_HOOK": "off"}).returncode == 0
        helper = setup_py_sdist("helperlib", "1.0", marker_dir=markers)
        # Verified itself; its setup.cfg sends easy_install to an index of its choice.
        app = setup_py_sdist("app", "1.0", marker_dir=markers, setup_requires=["helperlib"],
                             setup_cfg=f"[easy_install]\nindex_url = {index.url}\n")
        index.publish(app, helper)
        req = tmp_path / "requirements.txt"
        req.write_text(app.peep_block())

        # No build environment: pip < 23.1's default path for a setup.py project,
        # and every pip's with --no-build-isolation. setup.py runs below pip.
        result = venv.pip("install", "--no-build-isolation", "-r", req, "-i", index.url)

        assert (markers / "app-1.0").exists(), str(result)  # verified: it may run
        assert not (markers / "helperlib-1.0").exists(), str(result)
        assert result.returncode == 1, str(result)
        assert ("setuptools 41.6.0 would fetch helperlib (setup_requires of the project being "
                "built) with easy_install") in " ".join(result.output.split()), str(result)
        assert not venv.installed("app")
