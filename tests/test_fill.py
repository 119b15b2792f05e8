"""peep-hook fill: adding the missing peep hash lines, from a hermetic local index.

fill runs in the test venv (``python -m peep_hook fill``), so it asks the pip
under test: its configuration, session and finder. The files it writes are then
proved by the real hooked ``pip install -r`` in that venv.
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
import zipfile
from pathlib import Path

import pytest

from peep_hook.core.pip_versions import version_tuple
from tests._support.archives import (
    Archive,
    _sdist_files,
    backend_wheel,
    sdist,
    wheel,
)
from tests._support.index import Index
from tests._support.venvs import Result, Venv

CP_TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
TRUST = "trusting what the index serves today"


def fill(venv: Venv, *args: object, env: dict[str, str] | None = None) -> Result:
    return venv.python_run("-m", "peep_hook", "fill", *map(str, args), env=env)


def pip_conf(tmp_path: Path, **settings: object) -> dict[str, str]:
    """An environment whose only pip configuration is this [global] section."""
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
    return {"PIP_CONFIG_FILE": str(conf)}


def renamed(archive: Archive, filename: str, payload: str) -> Archive:
    """Another build of the same release under another file name (other tags)."""
    other = wheel(archive.name, archive.version, payload=payload)
    return Archive(archive.name, archive.version, filename, other.data)


def peep(data: bytes) -> str:
    return Archive("x", "0", "x", data).peep


def test_fills_wheels_sdist_and_nested_file_so_that_hooked_pip_installs(
        venv, index, tmp_path, markers):
    alpha, alpha_sdist = wheel("alpha", "1.0"), sdist("alpha", "1.0", marker_dir=markers)
    beta = wheel("beta", "2.0")
    beta_cp = renamed(beta, f"beta-2.0-{CP_TAG}-none-any.whl", "BEST = True")
    beta_py2 = renamed(beta, "beta-2.0-py2-none-any.whl", "PY2 = True")
    gamma = sdist("gamma", "3.0", marker_dir=markers)  # in-tree backend, no build deps
    index.publish(alpha, alpha_sdist, beta, beta_cp, beta_py2, gamma)
    (tmp_path / "sub").mkdir()
    nested = tmp_path / "sub" / "nested.txt"
    nested.write_text("# beta's best file is the one tagged for this interpreter\nbeta==2.0\n")
    req = tmp_path / "requirements.txt"
    req.write_text(f"-i {index.url}\nalpha==1.0\n-r sub/nested.txt\ngamma==3.0\n")

    result = fill(venv, req)

    assert result.returncode == 0, str(result)
    assert TRUST in result.stderr
    assert req.read_text() == (f"-i {index.url}\n# sha256: {alpha.peep}\nalpha==1.0\n"
                               f"-r sub/nested.txt\n# sha256: {gamma.peep}\ngamma==3.0\n")
    assert nested.read_text().endswith(f"# sha256: {beta_cp.peep}\nbeta==2.0\n")
    assert f"{req}:3: alpha==1.0" in result.stdout
    assert f"    # sha256: {alpha.peep}  alpha-1.0-py3-none-any.whl (downloaded)" in result.stdout
    assert f"{nested}:3: beta==2.0" in result.stdout

    installed = venv.pip("install", "-r", req)
    assert installed.returncode == 0, str(installed)
    assert venv.installed("alpha") and venv.installed("beta") and venv.installed("gamma")
    assert "BEST = True" in (venv.site_packages / "beta" / "__init__.py").read_text()


def test_every_other_byte_of_the_file_is_kept(venv, index, tmp_path):
    alpha, beta = wheel("alpha", "1.0"), wheel("beta", "2.0")
    index.publish(alpha, beta)
    stale = wheel("beta", "0.1").peep
    lines = [
        "# top comment  ",
        f"--index-url {index.url}",
        "",
        f"# sha256: {stale}",
        "beta==2.0    # already hashed: left alone",
        "  alpha[extra]==1.0 \\",
        "    ; python_version >= '3'  # continued",
        "--no-binary :none:",
        "alpha==1.0",  # last line, no line break
    ]
    original = ("\ufeff" + "\r\n".join(lines)).encode("utf-8")
    req = tmp_path / "requirements.txt"
    req.write_bytes(original)

    result = fill(venv, req)

    assert result.returncode == 0, str(result)
    expected = lines[:5] + [f"  # sha256: {alpha.peep}"] + lines[5:8]
    expected += [f"# sha256: {alpha.peep}", lines[8]]
    assert req.read_bytes() == ("\ufeff" + "\r\n".join(expected)).encode("utf-8")
    # Line numbers are those of the file as written.
    assert f"{req}:7: alpha==1.0" in result.stdout and f"{req}:11: alpha==1.0" in result.stdout
    assert "beta==2.0" not in result.stdout


def test_already_hashed_requirements_are_left_alone_without_any_download(venv, tmp_path):
    digest = hashlib.sha256(b"x").hexdigest()
    text = (f"# sha256: {peep(b'x')}\nalpha==1.0\n"
            f"beta==2.0 --hash=sha256:{digest}\n"
            f"# sha256: {peep(b'y')}\n\n# other comment\ngamma==3.0\n")
    req = tmp_path / "requirements.txt"
    req.write_text(text)

    # An index that serves nothing at all: any request would fail the run.
    result = fill(venv, req, "--index-url", "http://127.0.0.1:9/simple/")

    assert result.returncode == 0, str(result)
    assert req.read_text() == text
    assert "0 hashes added for 0 requirements in 0 files" in result.stdout


def test_unpinned_and_missing_requirements_are_reported_and_the_rest_filled(
        venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha, wheel("beta", "2.0"))
    req = tmp_path / "requirements.txt"
    more = index.serve_text("more.txt", "gamma==1.0\n")  # pip reads it; fill edits local files
    req.write_text(f"beta>=1\nalpha==1.0\nnosuch==1.0\n-r {more}\n")

    result = fill(venv, req, "--index-url", index.url)

    assert result.returncode == 1, str(result)
    assert f"{req}:1: beta>=1 is not pinned with ==" in result.stderr
    assert f"{req}:4: nosuch==1.0: no file of this release on {index.url}" in result.stderr
    assert f"{req}:5: note: not following {more}" in result.stderr
    assert req.read_text() == (f"beta>=1\n# sha256: {alpha.peep}\nalpha==1.0\nnosuch==1.0\n"
                               f"-r {more}\n")


def test_a_published_hash_that_does_not_match_the_download_is_refused(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    swapped = wheel("alpha", "1.0", payload="SWAPPED = True")
    (index.files / alpha.filename).write_bytes(swapped.data)  # the page still says alpha
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0\n")

    result = fill(venv, req, "--index-url", index.url)

    assert result.returncode == 1, str(result)
    assert f"the index publishes sha256={alpha.sha256}" in result.stderr
    assert req.read_text() == "alpha==1.0\n"


def test_all_files_uses_published_hashes_and_downloads_only_the_others(venv, index, tmp_path,
                                                                        markers):
    alpha = wheel("alpha", "1.0")
    alpha_sdist = sdist("alpha", "1.0", marker_dir=markers)
    other_platform = renamed(alpha, "alpha-1.0-cp27-cp27mu-manylinux1_x86_64.whl", "C = 1")
    index.publish(alpha, alpha_sdist, other_platform, wheel("alpha", "2.0"))
    # The index keeps publishing the wheel's hash while serving other bytes: only a
    # download could tell, and --all-files takes the published value.
    (index.files / alpha.filename).write_bytes(b"not what the page says")
    # The sdist's link loses its #sha256=, so it must be downloaded and hashed.
    page = index.root / "simple" / "alpha" / "index.html"
    page.write_text(re.sub(r"(alpha-1\.0\.tar\.gz)#sha256=[0-9a-f]+", r"\1", page.read_text()))
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0 ; python_version < '3'\n")  # excluded here: filled all the same

    result = fill(venv, req, "--all-files", "--index-url", index.url)

    assert result.returncode == 0, str(result)
    hashes = sorted([alpha, alpha_sdist, other_platform], key=lambda a: a.filename)
    assert req.read_text() == "".join(f"# sha256: {a.peep}\n" for a in hashes) + \
        "alpha==1.0 ; python_version < '3'\n"
    assert f"{alpha.filename} (published by the index)" in result.stdout
    assert "alpha-1.0.tar.gz (downloaded)" in result.stdout


def test_update_replaces_hashes_stale_after_a_version_bump_and_keeps_the_rest(
        venv, index, tmp_path, markers):
    old, new = wheel("alpha", "1.0"), wheel("alpha", "2.0")
    gamma_old, gamma = wheel("gamma", "1.0"), wheel("gamma", "2.0")
    gamma_sdist = sdist("gamma", "2.0", marker_dir=markers)
    here = renamed(wheel("delta", "1.0"), f"delta-1.0-{CP_TAG}-none-any.whl", "HERE = 1")
    elsewhere = renamed(here, "delta-1.0-cp27-none-any.whl", "ELSEWHERE = 1")
    index.publish(old, new, gamma_old, gamma, gamma_sdist, here, elsewhere)
    req = tmp_path / "requirements.txt"
    req.write_text(f"# sha256: {old.peep}\nalpha==2.0\n"
                   f"# sha256: {gamma_old.peep}\n# sha256: {gamma_sdist.peep}\ngamma==2.0\n"
                   f"# sha256: {elsewhere.peep}\ndelta==1.0\n")

    result = fill(venv, req, "--update", "--index-url", index.url)

    assert result.returncode == 0, str(result)
    # gamma keeps its sdist's hash, which pip in hash-checking mode prefers; delta
    # (filled on another Python) keeps its hash and gets this Python's file's.
    assert req.read_text() == (f"{new.peep_block()}"
                               f"# sha256: {gamma_sdist.peep}\ngamma==2.0\n"
                               f"# sha256: {elsewhere.peep}\n{here.peep_block()}")
    assert f"  - # sha256: {old.peep}  (matches no file of this release: removed)" \
        in result.stdout
    assert "2 hashes added for 3 requirements in 1 file, 2 stale hashes removed" in result.stdout


def test_marker_excluding_this_python_is_skipped_without_all_files(venv, index, tmp_path):
    index.publish(wheel("alpha", "1.0"))
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0 ; python_version < '3'\n")

    result = fill(venv, req, "--index-url", index.url)

    assert result.returncode == 0, str(result)
    assert "its marker excludes this Python" in result.stderr
    assert req.read_text() == "alpha==1.0 ; python_version < '3'\n"


def test_url_requirement_is_hashed_from_its_url(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    url = f"{index.base}/files/{alpha.filename}#egg=alpha"
    req = tmp_path / "requirements.txt"
    req.write_text(f"{url}\n")

    result = fill(venv, req, "--no-index")

    assert result.returncode == 0, str(result)
    assert req.read_text() == f"# sha256: {alpha.peep}\n{url}\n"


def test_a_download_that_fails_is_reported_without_a_traceback(venv, tmp_path):
    url = "http://127.0.0.1:9/files/alpha-1.0-py3-none-any.whl"  # nothing listens there
    req = tmp_path / "requirements.txt"
    req.write_text(f"{url}\n")

    result = fill(venv, req, "--no-index", "--retries", "0")

    assert result.returncode == 1, str(result)
    assert f"{req}:1: cannot download {url}: " in result.stderr
    assert "Traceback" not in result.output and req.read_text() == f"{url}\n"


def test_find_links_directory_is_read_relative_to_the_file(venv, tmp_path, markers):
    alpha, alpha_sdist = wheel("alpha", "1.0"), sdist("alpha", "1.0", marker_dir=markers)
    alpha.write(tmp_path / "wheels")
    alpha_sdist.write(tmp_path / "wheels")
    req = tmp_path / "requirements.txt"
    req.write_text("--no-index\n-f wheels\nalpha==1.0\n")

    result = fill(venv, req)  # run from another directory: the path is the file's

    assert result.returncode == 0, str(result)
    assert req.read_text() == f"--no-index\n-f wheels\n# sha256: {alpha.peep}\nalpha==1.0\n"


def test_dry_run_prints_the_hashes_and_writes_nothing(venv, index, tmp_path, markers):
    alpha = wheel("alpha", "1.0")
    app = sdist("app", "1.0", marker_dir=markers, backend="setuptools.build_meta",
                build_requires=["setuptools>=40.8.0"])
    index.publish(alpha, app, wheel("setuptools", "70.0"), wheel("wheel", "0.45.0"))
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0\napp==1.0\n")
    constraints = tmp_path / "constraints.txt"

    result = fill(venv, req, "--dry-run", "--build-constraints", constraints,
                  "--index-url", index.url)

    assert result.returncode == 0, str(result)
    assert req.read_text() == "alpha==1.0\napp==1.0\n"
    assert not constraints.exists()
    assert f"# sha256: {alpha.peep}" in result.stdout
    assert "setuptools==70.0 (build dependency of app==1.0)" in result.stdout
    assert "(dry run: nothing written)" in result.stdout


def fake_setuptools(version: str, markers: Path, requires: list[str]) -> Archive:
    """A build backend wheel named setuptools, importable as setuptools.build_meta."""
    alias = 'import sys as _s; _s.modules[__name__ + ".build_meta"] = _s.modules[__name__]'
    backend = backend_wheel("setuptools", version, marker_dir=markers, payload=alias)
    with zipfile.ZipFile(io.BytesIO(backend.data)) as zf:
        code = zf.read("setuptools/__init__.py").decode().split("\n", 1)[1]
    return wheel("setuptools", version, requires=requires, payload=code)


def test_build_constraints_let_hooked_pip_build_an_sdist(venv, index, tmp_path, markers):
    setuptools = fake_setuptools("70.0", markers, ["helperdep>=1; python_version >= '3'",
                                                   "neverdep; python_version < '3'"])
    helper, wheel_new = wheel("helperdep", "1.0"), wheel("wheel", "0.45.0")
    app = sdist("app", "1.0", marker_dir=markers, backend="setuptools.build_meta",
                build_requires=["setuptools>=40.8.0", "wheel"])
    index.publish(app, setuptools, helper, wheel_new, wheel("wheel", "0.44.0"),
                  wheel("setuptools", "39.0"), wheel("setuptools", "71.0rc1"))
    req = tmp_path / "requirements.txt"
    req.write_text("app==1.0\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("# kept as it is\nunrelated>=1\n")

    result = fill(venv, req, "--build-constraints", constraints, "--index-url", index.url)

    assert result.returncode == 0, str(result)
    assert req.read_text() == app.peep_block()
    label = "# build dependency of app==1.0\n"
    assert constraints.read_text() == (
        "# kept as it is\nunrelated>=1\n\n" + label + setuptools.peep_block() + "\n"
        + label + wheel_new.peep_block() + "\n" + label + helper.peep_block())
    assert not any(markers.iterdir())  # nothing of any archive ran

    installed = venv.pip("install", "-r", req, "-c", constraints, "-i", index.url)
    assert installed.returncode == 0, str(installed)
    assert venv.installed("app") and (markers / "setuptools-70.0").exists()
    assert not venv.installed("setuptools")

    again = fill(venv, req, "--build-constraints", constraints, "--index-url", index.url)
    assert again.returncode == 0, str(again)
    assert "0 hashes added" in again.stdout  # every pin is there already


def test_build_constraints_pin_the_sdists_a_no_binary_build_fetches(
        venv, index, tmp_path, markers):
    app = sdist("app", "1.0", marker_dir=markers, backend="setuptools.build_meta",
                build_requires=["setuptools>=40.8.0"])
    setuptools = sdist("setuptools", "70.0", marker_dir=markers)  # in-tree backend
    wheel_sdist = sdist("wheel", "0.45.0", marker_dir=markers)
    index.publish(app, setuptools, wheel("setuptools", "70.0"), wheel_sdist,
                  wheel("wheel", "0.45.0"))
    req = tmp_path / "requirements.txt"
    req.write_text("app==1.0\n")
    constraints = tmp_path / "build.txt"

    # pip hands --no-binary to the build child, which then fetches sdists.
    result = fill(venv, req, "--no-binary", ":all:", "--build-constraints", constraints,
                  "--index-url", index.url)

    assert result.returncode == 0, str(result)
    label = "# build dependency of app==1.0\n"
    assert constraints.read_text() == (label + setuptools.peep_block() + "\n"
                                       + label + wheel_sdist.peep_block())
    assert not any(markers.iterdir())  # nothing of any archive ran


def test_build_dependencies_are_read_from_pep_658_metadata_without_the_wheels(
        venv, tmp_path, markers, pip_version):
    served = Index(tmp_path / "pep658")
    served.core_metadata = True
    try:
        setuptools = wheel("setuptools", "70.0", requires=["helperdep>=1"])
        helper, wheel_new = wheel("helperdep", "1.0"), wheel("wheel", "0.45.0")
        app = sdist("app", "1.0", marker_dir=markers, backend="setuptools.build_meta",
                    build_requires=["setuptools>=40.8.0"])
        served.publish(app, setuptools, helper, wheel_new)
        # Listed with its hash and metadata, but not served: a download would fail.
        (served.files / setuptools.filename).unlink()
        req = tmp_path / "requirements.txt"
        req.write_text("app==1.0\n")
        constraints = tmp_path / "build.txt"

        result = fill(venv, req, "--build-constraints", constraints, "--index-url", served.url)
    finally:
        served.close()

    if version_tuple(pip_version) >= (22, 3):  # pip reads PEP 658 links since 22.3
        assert result.returncode == 0, str(result)
        text = constraints.read_text()
        assert all(a.peep_block() in text for a in (setuptools, helper, wheel_new)), text
        assert f"{setuptools.filename} (published by the index)" in result.stdout
    else:  # this pip sees no metadata file: the whole wheel is needed
        assert result.returncode == 1, str(result)
        assert f"cannot download {served.base}/files/{setuptools.filename}" in result.stderr


def test_build_dependencies_are_resolved_with_backtracking_by_pips_resolver(
        venv, index, tmp_path, markers):
    newest = wheel("setuptools", "71.0", requires=["helperdep>=2"])
    older = wheel("setuptools", "70.0", requires=["helperdep>=1"])
    helper_old, helper_new = wheel("helperdep", "1.0"), wheel("helperdep", "2.0")
    wheel_new = wheel("wheel", "0.45.0")
    app = sdist("app", "1.0", marker_dir=markers, backend="setuptools.build_meta",
                build_requires=["setuptools>=40.8.0", "helperdep<2"])
    index.publish(app, newest, older, helper_old, helper_new, wheel_new)
    req = tmp_path / "requirements.txt"
    req.write_text("app==1.0\n")
    constraints = tmp_path / "build.txt"

    # The newest setuptools needs helperdep>=2, which the sdist excludes: a greedy
    # walk stops there; pip's resolver backtracks to setuptools 70.0.
    result = fill(venv, req, "--build-constraints", constraints, "--index-url", index.url)

    assert result.returncode == 0, str(result)
    text = constraints.read_text()
    assert all(a.peep_block() in text for a in (older, helper_old, wheel_new)), text
    assert "setuptools==71.0" not in text and "helperdep==2.0" not in text


def test_sdist_without_pyproject_needs_setuptools_and_wheel(venv, index, tmp_path):
    legacy = _sdist_files("legacy", "1.0", {
        "setup.py": "raise SystemExit('never run')\n",
        "PKG-INFO": "Metadata-Version: 1.0\nName: legacy\nVersion: 1.0\n",
    })
    setuptools, wheel_new = wheel("setuptools", "70.0"), wheel("wheel", "0.45.0")
    index.publish(legacy, setuptools, wheel_new)
    req = tmp_path / "requirements.txt"
    req.write_text("legacy==1.0\n")
    constraints = tmp_path / "build.txt"

    result = fill(venv, req, "--build-constraints", constraints, "--index-url", index.url)

    assert result.returncode == 0, str(result)
    label = "# build dependency of legacy==1.0\n"
    assert constraints.read_text() == (label + setuptools.peep_block() + "\n"
                                       + label + wheel_new.peep_block())


def test_a_build_dependency_pinned_in_the_files_keeps_its_pin(venv, index, tmp_path, markers):
    old, new = wheel("setuptools", "68.0"), wheel("setuptools", "70.0")
    app = sdist("app", "1.0", marker_dir=markers, backend="setuptools.build_meta",
                build_requires=["setuptools>=61"])
    wheel_new = wheel("wheel", "0.45.0")
    index.publish(app, old, new, wheel_new)
    req = tmp_path / "requirements.txt"
    req.write_text(f"app==1.0\n{old.peep_block()}")
    constraints = tmp_path / "build.txt"

    result = fill(venv, req, "--build-constraints", constraints, "--index-url", index.url)

    assert result.returncode == 0, str(result)
    assert "setuptools" not in constraints.read_text()
    assert wheel_new.peep_block() in constraints.read_text()


# -- where fill looks: where pip would ----------------------------------------------


def test_an_index_named_only_in_pip_conf_is_asked_and_a_project_it_lacks_fails(
        venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    # Credentials in the configured URL are sent, and never printed or written.
    secret_url = index.url.replace("//", "//user:s3cret@")
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0\nbeta==1.0\n")

    result = fill(venv, req, env=pip_conf(tmp_path, **{"index-url": secret_url}))

    assert result.returncode == 1, str(result)
    assert req.read_text() == f"# sha256: {alpha.peep}\nalpha==1.0\nbeta==1.0\n"
    redacted = index.url.replace("//", "//user:****@")
    assert f"{req}:3: beta==1.0: no file of this release on {redacted}" in result.stderr
    assert "s3cret" not in result.output


def test_an_index_named_only_in_pip_index_url_is_asked(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0\n")

    result = fill(venv, req, env={"PIP_INDEX_URL": index.url})

    assert result.returncode == 0, str(result)
    assert req.read_text() == alpha.peep_block()


def test_no_index_and_find_links_in_pip_conf_are_followed(venv, tmp_path):
    alpha = wheel("alpha", "1.0")
    alpha.write(tmp_path / "wheels")
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0\n")
    env = pip_conf(tmp_path, **{"no-index": "true", "find-links": tmp_path / "wheels"})

    result = fill(venv, req, env=env)

    assert result.returncode == 0, str(result)
    assert req.read_text() == alpha.peep_block()


def test_basic_auth_with_the_credentials_only_in_netrc(venv, tmp_path):
    private = Index(tmp_path / "private", credentials=("deploy", "n3trc-secret"))
    try:
        alpha = wheel("alpha", "1.0")
        private.publish(alpha)
        home = tmp_path / "home"
        home.mkdir()
        netrc = home / ".netrc"
        netrc.write_text("machine 127.0.0.1 login deploy password n3trc-secret\n")
        netrc.chmod(0o600)
        req = tmp_path / "requirements.txt"
        req.write_text("alpha==1.0\n")

        result = fill(venv, req, env={"PIP_INDEX_URL": private.url, "HOME": str(home)})
    finally:
        private.close()

    assert result.returncode == 0, str(result)
    assert req.read_text() == alpha.peep_block()
    assert "n3trc-secret" not in result.output


def test_a_json_only_index_is_read_by_pips_that_read_pep_691(venv, tmp_path, pip_version):
    json_index = Index(tmp_path / "json", json_only=True)
    try:
        alpha = wheel("alpha", "1.0")
        json_index.publish(alpha)
        req = tmp_path / "requirements.txt"
        req.write_text("alpha==1.0\n")

        result = fill(venv, req, "--index-url", json_index.url)
    finally:
        json_index.close()

    if version_tuple(pip_version) >= (22, 2):  # pip reads PEP 691 since 22.2
        assert result.returncode == 0, str(result)
        assert req.read_text() == alpha.peep_block()
    else:  # as this pip would: no file found there, and none hashed from elsewhere
        assert result.returncode == 1, str(result)
        assert f"alpha==1.0: no file of this release on {json_index.url}" in result.stderr
        assert req.read_text() == "alpha==1.0\n"


def test_fills_for_another_python_and_platform_as_pip_download_would(venv, index, tmp_path):
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.13"
    other_tag = "cp" + other.replace(".", "")
    here = renamed(wheel("alpha", "1.0"), f"alpha-1.0-{CP_TAG}-none-any.whl", "HERE = 1")
    there = renamed(here, f"alpha-1.0-{other_tag}-none-any.whl", "THERE = 1")
    arm = renamed(here, "alpha-1.0-py3-none-manylinux2014_aarch64.whl", "ARM = 1")
    index.publish(here, there, arm)
    for_other, for_arm = tmp_path / "other.txt", tmp_path / "arm.txt"
    for_other.write_text("alpha==1.0 ; python_version >= '3.12'\n")
    for_arm.write_text("alpha==1.0\n")

    other_python = fill(venv, for_other, "-i", index.url, "--python-version", other)
    other_platform = fill(venv, for_arm, "-i", index.url, "--platform", "manylinux2014_aarch64",
                          "--only-binary", ":all:")

    assert other_python.returncode == 0, str(other_python)
    assert for_other.read_text() == f"# sha256: {there.peep}\nalpha==1.0 ; python_version >= '3.12'\n"
    assert other_platform.returncode == 0, str(other_platform)
    assert for_arm.read_text() == arm.peep_block()


def test_fill_refuses_when_a_pip_internal_it_uses_has_changed_shape(monkeypatch):
    from pip._internal.index.package_finder import PackageFinder

    from peep_hook.commands.fill.pip_index import FillError, check_pip

    def find_best_candidate(self: object, name: str, specifier: object = None) -> None:
        """A pip whose finder no longer takes the hashes to prefer."""

    monkeypatch.setattr(PackageFinder, "find_best_candidate", find_best_candidate)
    with pytest.raises(FillError, match=r"PackageFinder\.find_best_candidate has parameters "
                       r"\(name, specifier\), expected \(project_name, specifier, hashes"):
        check_pip()
