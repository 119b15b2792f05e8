"""What is already installed, and the user's own source trees.

pip trusts whatever is installed ("Requirement already satisfied"). peep-hook
records the verified archive's hash in the distribution's .dist-info; an
installed distribution without a record matching today's hashes (for a URL or
path requirement: the archive verified in this run) is reinstalled from the
archive verified now, with one line saying so, on both resolvers.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from pathlib import Path

import pytest

from tests._support.archives import Archive, backend_wheel, sdist, source_tree, tampered, wheel
from tests._support.outcomes import assert_ok, exit_1_without_traceback
from tests._support.pips import LEGACY, PIP, RESOLVERS
from tests._support.venvs import Result, Venv

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def reinstalled(result: Result) -> list[str]:
    """The names in peep-hook's "reinstalling" lines."""
    return sorted(line.split()[2].split("==")[0] for line in result.output.splitlines()
                  if line.strip().startswith("peep-hook: reinstalling "))


def record(site_packages: Path, name: str, version: str) -> str | None:
    path = site_packages / f"{name}-{version}.dist-info" / "PEEP_HOOK.json"
    return json.loads(path.read_text())["sha256"] if path.exists() else None


def module(site_packages: Path, name: str) -> str:
    return (site_packages / name / "__init__.py").read_text()


def unhooked(venv: Venv, *args: str | os.PathLike) -> None:
    """pip as it ran before peep-hook was installed."""
    assert_ok(venv.pip("install", *args, env={"PEEP_HOOK": "off"}))


def test_verified_install_is_recorded_and_trusted_on_the_next_run(venv: Venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    assert_ok(venv.pip("install", "-r", req, "-i", index.url))

    assert record(venv.site_packages, "alpha", "1.0") == alpha.sha256
    again = assert_ok(venv.pip("install", "-r", req, "-i", index.url))
    assert "already satisfied" in again.stdout
    assert reinstalled(again) == []


# -- environments populated before the hook -------------------------------------


@RESOLVERS
def test_environment_populated_before_the_hook_is_brought_under_it_by_the_same_command(
        venv, index, tmp_path, resolver):
    alpha, beta = wheel("alpha", "1.0", requires=["beta"]), wheel("beta", "1.0")
    index.publish(alpha, beta)
    unhooked(venv, "alpha==1.0", "-i", index.url)  # and beta, its dependency
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block() + beta.peep_block())

    first = assert_ok(venv.pip("install", *resolver, "-r", req, "-i", index.url))

    assert reinstalled(first) == ["alpha", "beta"], str(first)
    assert "peep-hook: reinstalling alpha==1.0: installed before peep-hook" in first.stdout
    assert "no record of a verified archive" in first.stdout
    assert record(venv.site_packages, "alpha", "1.0") == alpha.sha256
    assert record(venv.site_packages, "beta", "1.0") == beta.sha256
    second = assert_ok(venv.pip("install", *resolver, "-r", req, "-i", index.url))
    assert reinstalled(second) == [] and "already satisfied" in second.stdout, str(second)


@RESOLVERS
def test_installed_from_an_archive_not_among_todays_hashes_is_replaced_by_the_verified_one(
        venv, index, tmp_path, resolver):
    alpha = wheel("alpha", "1.0")
    other = tampered(alpha)  # same name and version, other bytes
    index.publish(other)
    first = tmp_path / "first.txt"
    first.write_text(other.peep_block())
    assert_ok(venv.pip("install", "-r", first, "-i", index.url))
    assert record(venv.site_packages, "alpha", "1.0") == other.sha256

    # Today's file expects the genuine archive: what is installed is not it.
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    result = assert_ok(venv.pip("install", *resolver, "-r", req, "-i", index.url))

    assert reinstalled(result) == ["alpha"], str(result)
    assert f"# sha256: {other.peep}" in result.stdout  # what it had been installed from
    assert "TAMPERED" not in module(venv.site_packages, "alpha")
    assert record(venv.site_packages, "alpha", "1.0") == alpha.sha256


def test_a_record_whose_sha256_is_not_64_hex_digits_is_no_record(tmp_path):
    from peep_hook.core import install_record

    dist_info = tmp_path / "alpha-1.0.dist-info"
    dist_info.mkdir()
    digest = "ab" * 32
    for value, read in [(digest, digest), (digest.upper(), None), ("ab", None),
                        ("not a hash", None), (None, None), (42, None)]:
        (dist_info / install_record.RECORD_NAME).write_text(json.dumps({"sha256": value}))
        assert install_record.read_record(str(tmp_path), "alpha", "1.0") == read, value
        assert install_record.load_record(str(dist_info)).sha256 == read, value
    (dist_info / install_record.RECORD_NAME).write_text("[]")
    assert install_record.read_record(str(tmp_path), "alpha", "1.0") is None
    with pytest.raises(ValueError):
        install_record.load_record(str(dist_info))


def test_installed_with_a_record_that_is_not_a_sha256_is_reinstalled(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    assert_ok(venv.pip("install", "-r", req, "-i", index.url))
    path = venv.site_packages / "alpha-1.0.dist-info" / "PEEP_HOOK.json"
    path.write_text(json.dumps({"name": "alpha", "sha256": "not a hash"}))

    result = assert_ok(venv.pip("install", "-r", req, "-i", index.url))

    assert reinstalled(result) == ["alpha"], str(result)
    assert record(venv.site_packages, "alpha", "1.0") == alpha.sha256


@RESOLVERS
def test_tampered_archive_is_still_refused_and_the_installed_one_left_as_it_was(
        venv, index, tmp_path, resolver):
    alpha = wheel("alpha", "1.0", payload="ORIGINAL = True")
    index.publish(alpha)
    unhooked(venv, "alpha==1.0", "-i", index.url)
    index.publish(tampered(alpha))
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    result = venv.pip("install", *resolver, "-r", req, "-i", index.url)

    assert exit_1_without_traceback(result), str(result)
    assert f"# sha256: {alpha.peep}" in result.stderr
    assert reinstalled(result) == []  # no line claims a reinstall that did not happen
    assert "ORIGINAL" in module(venv.site_packages, "alpha")
    assert record(venv.site_packages, "alpha", "1.0") is None


@RESOLVERS
def test_installed_dependency_that_no_file_hashes_is_refused_with_its_block(
        venv, index, tmp_path, resolver):
    alpha, beta = wheel("alpha", "1.0", requires=["beta"]), wheel("beta", "1.0")
    index.publish(alpha, beta)
    unhooked(venv, "alpha==1.0", "-i", index.url)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())  # nothing hashes beta

    result = venv.pip("install", *resolver, "-r", req, "-i", index.url)

    assert exit_1_without_traceback(result), str(result)
    assert f"# sha256: {beta.peep}" in result.stderr  # the block to paste
    assert reinstalled(result) == []
    assert record(venv.site_packages, "alpha", "1.0") is None  # nothing was replaced


# -- URL and path requirements ----------------------------------------------------


def _url_line(archive: Archive, index) -> str:
    url = f"{index.base}/files/{archive.filename}"
    if archive.filename.endswith(".whl"):
        return f"{archive.name} @ {url}"
    return f"{url}#egg={archive.name}"  # the peep-era form


@RESOLVERS
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_url_requirement_whose_archive_changed_at_the_same_version_installs_the_new_code(
        venv, index, tmp_path, markers, resolver, kind):
    def make(payload: str) -> Archive:
        if kind == "wheel":
            return wheel("app", "1.0", payload=payload)
        return sdist("app", "1.0", marker_dir=markers, payload=payload)

    old, new = make("RELEASE = 'old'"), make("RELEASE = 'new'")
    req = tmp_path / "requirements.txt"
    index.publish(old)
    req.write_text(f"# sha256: {old.peep}\n{_url_line(old, index)}\n")
    assert_ok(venv.pip("install", *resolver, "-r", req))
    unchanged = assert_ok(venv.pip("install", *resolver, "-r", req))
    assert reinstalled(unchanged) == [], str(unchanged)

    index.publish(new)  # same URL, same version, other bytes; the file has the new hash
    req.write_text(f"# sha256: {new.peep}\n{_url_line(new, index)}\n")
    result = assert_ok(venv.pip("install", *resolver, "-r", req))

    assert reinstalled(result) == ["app"], str(result)
    assert "RELEASE = 'new'" in module(venv.site_packages, "app")
    assert record(venv.site_packages, "app", "1.0") == new.sha256


@RESOLVERS
def test_url_requirement_installed_before_the_hook_is_reinstalled(venv, index, tmp_path,
                                                                  resolver):
    app = wheel("app", "1.0")
    index.publish(app)
    unhooked(venv, _url_line(app, index))
    req = tmp_path / "requirements.txt"
    req.write_text(f"# sha256: {app.peep}\n{_url_line(app, index)}\n")

    result = assert_ok(venv.pip("install", *resolver, "-r", req))

    assert reinstalled(result) == ["app"], str(result)
    assert record(venv.site_packages, "app", "1.0") == app.sha256


# -- where pip installs: --target, --prefix, --user ----------------------------------


def test_target_directory_receives_the_verified_archive_and_its_record(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    target = tmp_path / "target"
    unhooked(venv, "--target", target, "alpha==1.0", "-i", index.url)
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    # pip never counts a --target directory as installed: it fetches and
    # verifies every archive; replacing what is there takes --upgrade (pip's rule).
    assert_ok(venv.pip("install", "--target", target, "--upgrade", "-r", req, "-i", index.url))

    assert "TAMPERED" not in module(target, "alpha")
    assert record(target, "alpha", "1.0") == alpha.sha256


def test_target_directory_without_upgrade_never_keeps_old_code(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    target = tmp_path / "target"
    unhooked(venv, "--target", target, "alpha==1.0", "-i", index.url)
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    # Without the hook pip would keep the old files ("Target directory ...
    # already exists") and exit 0.
    result = assert_ok(venv.pip("install", "--target", target, "-r", req, "-i", index.url))

    assert "already holds with the files of the archives verified now" in result.output
    assert "TAMPERED" not in module(target, "alpha")
    assert record(target, "alpha", "1.0") == alpha.sha256


def test_prefix_on_the_path_is_brought_under_the_hook(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    prefix = tmp_path / "prefix"
    unhooked(venv, "--prefix", prefix, "alpha==1.0", "-i", index.url)
    site = prefix / "lib" / PY / "site-packages"
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    env = {"PYTHONPATH": str(site)}  # so pip sees what the prefix holds

    result = assert_ok(venv.pip("install", "--prefix", prefix, "-r", req, "-i", index.url,
                                env=env))

    assert reinstalled(result) == ["alpha"], str(result)
    assert "TAMPERED" not in module(site, "alpha")
    assert record(site, "alpha", "1.0") == alpha.sha256
    again = assert_ok(venv.pip("install", "--prefix", prefix, "-r", req, "-i", index.url, env=env))
    assert reinstalled(again) == [] and "already satisfied" in again.stdout, str(again)


def _scheme_site(where: str, directory: Path, venv: Venv) -> Path:
    if where == "--target":
        return directory
    if where == "--root":  # the venv's own layout, below the root
        return directory / venv.site_packages.relative_to(venv.site_packages.anchor)
    return directory / "lib" / PY / "site-packages"


@pytest.mark.parametrize("where, resolver", [
    ("--prefix", ()), ("--prefix", (LEGACY,)), ("--root", ()), ("--target", ()),
], ids=["prefix", "prefix-legacy", "root", "target"])
def test_install_elsewhere_leaves_the_running_environment_alone(venv, index, tmp_path,
                                                                where, resolver):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    unhooked(venv, "alpha==1.0", "-i", index.url)  # in the venv, without a record
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    directory = tmp_path / "elsewhere"

    result = assert_ok(venv.pip("install", *resolver, where, directory, "-r", req,
                                "-i", index.url))

    # Reinstalling applies to the scheme pip installs into: the venv's copy
    # stays (plain pip leaves it too), the directory gets the verified one.
    assert "TAMPERED" in module(venv.site_packages, "alpha"), str(result)
    assert reinstalled(result) == [], str(result)
    site = _scheme_site(where, directory, venv)
    assert "TAMPERED" not in module(site, "alpha")
    assert record(site, "alpha", "1.0") == alpha.sha256


@RESOLVERS
def test_user_site_populated_before_the_hook_is_reinstalled_there(user_site_venv, index,
                                                                  tmp_path, resolver):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    env = {"PYTHONUSERBASE": str(tmp_path / "userbase")}
    assert_ok(user_site_venv.pip("install", "--user", "alpha==1.0", "-i", index.url,
                                 env={**env, "PEEP_HOOK": "off"}))
    (user_site,) = (tmp_path / "userbase").glob("lib/python*/site-packages")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    result = assert_ok(user_site_venv.pip("install", *resolver, "--user", "-r", req,
                                          "-i", index.url, env=env))

    assert reinstalled(result) == ["alpha"], str(result)
    assert "TAMPERED" not in module(user_site, "alpha")
    assert record(user_site, "alpha", "1.0") == alpha.sha256
    assert not list(user_site_venv.site_packages.glob("alpha*"))


# -- pip and setuptools themselves ----------------------------------------------------


def test_pip_itself_installed_without_a_record_is_reinstalled_by_itself(
        make_venv, index, tmp_path, wheelhouse, pip_version):
    fresh = make_venv()  # its pip was installed without the hook
    path = next(wheelhouse.glob(f"pip-{pip_version}-*.whl"))
    pip = Archive("pip", pip_version, path.name, path.read_bytes())
    index.publish(pip)
    req = tmp_path / "requirements.txt"
    req.write_text(pip.peep_block())

    result = assert_ok(fresh.pip("install", "-r", req, "-i", index.url))

    assert reinstalled(result) == ["pip"], str(result)
    assert record(fresh.site_packages, "pip", pip_version) == pip.sha256
    again = assert_ok(fresh.pip("install", "-r", req, "-i", index.url))
    assert reinstalled(again) == [] and "already satisfied" in again.stdout, str(again)


def _setuptools_wheel() -> Archive:
    """The interpreter's bundled setuptools wheel (Python 3.11 and older have
    one; it brings a .pth file of its own), or a stand-in."""
    bundled = Path(sysconfig.get_paths()["stdlib"]) / "ensurepip" / "_bundled"
    for path in sorted(bundled.glob("setuptools-*.whl")):
        return Archive("setuptools", path.name.split("-")[1], path.name, path.read_bytes())
    return wheel("setuptools", "99.0")


def test_setuptools_installed_without_a_record_is_reinstalled(venv, index, tmp_path):
    setuptools = _setuptools_wheel()
    index.publish(setuptools)
    unhooked(venv, setuptools.pin, "-i", index.url)
    req = tmp_path / "requirements.txt"
    req.write_text(setuptools.peep_block())

    result = assert_ok(venv.pip("install", "-r", req, "-i", index.url))

    assert reinstalled(result) == ["setuptools"], str(result)
    assert record(venv.site_packages, "setuptools", setuptools.version) == setuptools.sha256
    assert assert_ok(venv.python_run("-c", "import setuptools"))


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

    assert exit_1_without_traceback(result), str(result)
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

    assert exit_1_without_traceback(result), str(result)
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

        assert exit_1_without_traceback(result), str(result)
        assert not (markers / "markerbackend-1.0").exists()
        assert not venv.installed("mine")


def test_vcs_editable_is_refused(venv, tmp_path):
    result = venv.pip("install", "-e", "git+https://127.0.0.1:9/nothing.git#egg=nothing")
    assert exit_1_without_traceback(result), str(result)
    # Refused for having no single file to hash, before anything is cloned.
    assert "no single file to hash" in result.stderr
