"""What is already installed, and the user's own source trees.

pip trusts whatever is installed ("Requirement already satisfied"). peep-hook
records the verified archive's hash in the distribution's .dist-info and
compares it with today's hashes; without a matching record it refuses.
"""

from __future__ import annotations

import os

from tests._support.archives import backend_wheel, source_tree, tampered, wheel
from tests._support.venvs import Result, Venv

PIP = tuple(int(p) for p in os.environ.get("PEEP_HOOK_TEST_PIP", "0.0").split(".")[:2])


def refused(result: Result) -> bool:
    return result.returncode == 1 and "Traceback" not in result.output


def test_verified_install_is_recorded_and_trusted_on_the_next_run(venv: Venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    assert venv.pip("install", "-r", req, "-i", index.url).returncode == 0

    record = next(venv.site_packages.glob("alpha-1.0.dist-info/PEEP_HOOK.json"))
    assert alpha.sha256 in record.read_text()
    again = venv.pip("install", "-r", req, "-i", index.url)
    assert again.returncode == 0, str(again)
    assert "already satisfied" in again.stdout


def test_installed_from_another_archive_is_refused_until_reinstalled(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    other = tampered(alpha)  # same name and version, other bytes
    index.publish(other)
    first = tmp_path / "first.txt"
    first.write_text(other.peep_block())
    assert venv.pip("install", "-r", first, "-i", index.url).returncode == 0

    # Today's file expects the genuine archive: what is installed is not it.
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert "already installed" in result.stderr and "--force-reinstall" in result.stderr
    assert f"# sha256: {other.peep}" in result.stderr  # what it was installed from
    index.publish(alpha)
    fixed = venv.pip("install", "--force-reinstall", "-r", req, "-i", index.url)
    assert fixed.returncode == 0, str(fixed)
    assert alpha.sha256 in next(venv.site_packages.glob("alpha-1.0.dist-info/PEEP_HOOK.json")).read_text()


def test_installed_without_the_hook_has_no_record_and_is_refused(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    unhooked = venv.pip("install", "alpha==1.0", "-i", index.url, env={"PEEP_HOOK": "off"})
    assert unhooked.returncode == 0, str(unhooked)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert "no record" in result.stderr
    assert venv.pip("install", "--force-reinstall", "-r", req, "-i", index.url).returncode == 0


def test_uninstall_removes_the_record_with_the_distribution(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    assert venv.pip("install", "-r", req, "-i", index.url).returncode == 0

    result = venv.pip("uninstall", "-y", "alpha")

    assert result.returncode == 0, str(result)
    assert not list(venv.site_packages.glob("alpha*"))


def test_local_source_tree_installs_with_verified_build_dependencies(venv, index, tmp_path,
                                                                    markers):
    backend = backend_wheel("markerbackend", "1.0", marker_dir=markers)
    index.publish(backend)
    project = source_tree(tmp_path / "project", "mine", "0.1", backend="markerbackend",
                          build_requires=["markerbackend"])
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(backend.peep_block())

    result = venv.pip("install", project, "-c", constraints, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("mine")


def test_local_source_tree_with_unpinned_build_dependency_is_refused(venv, index, tmp_path,
                                                                    markers):
    backend = backend_wheel("markerbackend", "1.0", marker_dir=markers)
    index.publish(backend)
    project = source_tree(tmp_path / "project", "mine", "0.1", backend="markerbackend",
                          build_requires=["markerbackend"])

    result = venv.pip("install", project, "-i", index.url)

    assert refused(result), str(result)
    assert not (markers / "markerbackend-1.0").exists()
    assert not venv.installed("mine")


def test_local_source_tree_dependencies_still_need_hashes(venv, index, tmp_path, markers):
    backend, dep = backend_wheel("markerbackend", "1.0", marker_dir=markers), wheel("dep", "1.0")
    index.publish(backend, dep)
    project = source_tree(tmp_path / "project", "mine", "0.1", backend="markerbackend",
                          build_requires=["markerbackend"], requires=["dep"])
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(backend.peep_block())

    result = venv.pip("install", project, "-c", constraints, "-i", index.url)

    assert refused(result), str(result)
    assert f"# sha256: {dep.peep}" in result.stderr
    assert not venv.installed("mine") and not venv.installed("dep")


if PIP >= (21, 3):  # editable installs of pyproject-only projects (PEP 660)

    def test_editable_source_tree_installs_with_verified_build_dependencies(
            venv, index, tmp_path, markers):
        backend = backend_wheel("markerbackend", "1.0", marker_dir=markers)
        index.publish(backend)
        project = source_tree(tmp_path / "project", "mine", "0.1", backend="markerbackend",
                              build_requires=["markerbackend"])
        constraints = tmp_path / "constraints.txt"
        constraints.write_text(backend.peep_block())

        result = venv.pip("install", "-e", project, "-c", constraints, "-i", index.url)

        assert result.returncode == 0, str(result)
        assert venv.installed("mine")

    def test_editable_source_tree_with_tampered_build_dependency_is_refused(
            venv, index, tmp_path, markers):
        backend = backend_wheel("markerbackend", "1.0", marker_dir=markers)
        index.publish(backend_wheel("markerbackend", "1.0", marker_dir=markers, payload="X = 1"))
        project = source_tree(tmp_path / "project", "mine", "0.1", backend="markerbackend",
                              build_requires=["markerbackend"])
        constraints = tmp_path / "constraints.txt"
        constraints.write_text(backend.peep_block())

        result = venv.pip("install", "-e", project, "-c", constraints, "-i", index.url)

        assert refused(result), str(result)
        assert not (markers / "markerbackend-1.0").exists()
        assert not venv.installed("mine")


def test_vcs_editable_is_refused(venv, tmp_path):
    result = venv.pip("install", "-e", "git+https://127.0.0.1:9/nothing.git#egg=nothing")
    assert refused(result), str(result)
    # Refused for having no single file to hash, before anything is cloned.
    assert "no single file to hash" in result.stderr
