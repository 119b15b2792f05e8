"""Every way pip fetches an archive is hash-checked under the hook.

One test per fetch path. Each serves a TAMPERED archive (same name, version
and filename as the genuine one, as a compromised index, mirror, directory or
cache would hold it) and requires pip to refuse it: exit 1, an ``ERROR:``, no
traceback, nothing installed, and the hash the requirements file expects in
the output. Where cheap, a control run shows the genuine archive installing
the same way, so a refusal cannot come from a broken set-up.

pip's HTTP cache does not store what the plain-HTTP local index serves, so
republishing a file at the same URL within a test is seen by the next pip
run. The HTTP-cache test uses an index served over HTTPS whose files pip caches.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests._support.archives import Archive, sdist, tampered, wheel
from tests._support.index import Index
from tests._support.outcomes import assert_ok, write
from tests._support.venvs import Result, Venv

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


# -- helpers -------------------------------------------------------------------


def assert_refused(result: Result, *expected: Archive) -> None:
    """pip refused with exit 1 and an ERROR (not a traceback or a usage error),
    and the output names the hash the files expected for each archive."""
    assert result.returncode == 1, str(result)
    assert "ERROR:" in result.stderr, str(result)
    assert "Traceback" not in result.output, str(result)
    for archive in expected:
        assert f"# sha256: {archive.peep}" in result.output, str(result)


def installed_module(site_packages: Path, name: str) -> str:
    return (site_packages / name / "__init__.py").read_text()


def marker_runs(markers: Path, archive: Archive) -> int:
    """How many times the sdist's build backend was imported (pip imports it
    in more than one hook subprocess per build)."""
    marker = markers / f"{archive.name}-{archive.version}"
    return len(marker.read_text().splitlines()) if marker.exists() else 0


@pytest.fixture
def other_index(tmp_path: Path) -> Iterator[Index]:
    served = Index(tmp_path / "other")
    yield served
    served.close()


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate and key for 127.0.0.1 (openssl CLI)."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert made.returncode == 0, made.stderr
    return cert, key


# -- where the archive comes from ------------------------------------------------


def test_find_links_http_url_is_verified(venv: Venv, index, tmp_path):
    bad, good = wheel("flhttp", "1.0"), wheel("flhttpok", "1.0")
    index.publish(tampered(bad), good)
    links = f"{index.base}/files/"  # a served directory listing, not an index
    req = write(tmp_path / "bad.txt", bad.peep_block())

    result = venv.pip("install", "-r", req, "--no-index", "--find-links", links)

    assert_refused(result, bad)
    assert "does not match" in result.stderr
    assert not venv.installed("flhttp")

    ok = venv.pip("install", "-r", write(tmp_path / "good.txt", good.peep_block()),
                  "--no-index", "--find-links", links)
    assert_ok(ok)
    assert venv.installed("flhttpok")


def test_extra_index_url_is_verified(venv, index, other_index, tmp_path):
    bad, good = wheel("xidx", "1.0"), wheel("xidxok", "1.0")
    other_index.publish(tampered(bad), good)  # only on the extra index
    req = write(tmp_path / "bad.txt", bad.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url,
                      "--extra-index-url", other_index.url)

    assert_refused(result, bad)
    assert not venv.installed("xidx")

    ok = venv.pip("install", "-r", write(tmp_path / "good.txt", good.peep_block()),
                  "-i", index.url, "--extra-index-url", other_index.url)
    assert_ok(ok)
    assert venv.installed("xidxok")


def test_extra_index_serving_a_tampered_copy_does_not_replace_the_genuine_one(
        venv, index, other_index, tmp_path):
    # Dependency confusion: the same file name on a second index, altered.
    # pip drops index links whose #sha256 matches no allowed hash when another
    # link matches, so the genuine file is the one installed.
    good = wheel("xidxboth", "1.0")
    index.publish(good)
    other_index.publish(tampered(good))
    req = write(tmp_path / "requirements.txt", good.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url,
                      "--extra-index-url", other_index.url)

    assert_ok(result)
    assert "TAMPERED" not in installed_module(venv.site_packages, "xidxboth")


def test_relative_local_path_in_requirements_file_is_verified(venv, tmp_path):
    # pip resolves a relative path in a requirements file against the current
    # directory, not the file's: the file sits in reqs/, the archives in dist/.
    bad, good = wheel("localrel", "1.0"), wheel("localrelok", "1.0")
    tampered(bad).write(tmp_path / "dist")
    good.write(tmp_path / "dist")
    req = write(tmp_path / "reqs" / "bad.txt",
                f"# sha256: {bad.peep}\ndist/{bad.filename}\n")

    result = venv.pip("install", "-r", req, cwd=tmp_path)

    assert_refused(result, bad)
    assert "does not match" in result.stderr
    assert not venv.installed("localrel")

    ok_req = write(tmp_path / "reqs" / "good.txt",
                   f"# sha256: {good.peep}\n./dist/{good.filename}\n")
    ok = venv.pip("install", "-r", ok_req, cwd=tmp_path)
    assert_ok(ok)
    assert venv.installed("localrelok")


def test_file_url_in_requirements_file_is_verified(venv, tmp_path):
    bad, good = wheel("fileurl", "1.0"), wheel("fileurlok", "1.0")
    bad_path = tampered(bad).write(tmp_path / "dist")
    good_path = good.write(tmp_path / "dist")
    req = write(tmp_path / "bad.txt", f"# sha256: {bad.peep}\n{bad_path.as_uri()}\n")

    result = venv.pip("install", "-r", req)

    assert_refused(result, bad)
    assert not venv.installed("fileurl")

    ok = venv.pip("install", "-r",
                  write(tmp_path / "good.txt", f"# sha256: {good.peep}\n{good_path.as_uri()}\n"))
    assert_ok(ok)
    assert venv.installed("fileurlok")


def test_local_archive_on_command_line_is_refused_with_the_block_to_paste(venv, tmp_path):
    # A command-line argument cannot carry a peep hash: refused as missing,
    # with the block (the file's URL under its hash) to put in a file.
    archive = wheel("cmdpath", "1.0")
    path = archive.write(tmp_path / "dist")

    result = venv.pip("install", f"dist/{archive.filename}", cwd=tmp_path)

    assert_refused(result, archive)  # the hash of the file, to paste
    assert "has no hash" in result.stderr
    assert f"# sha256: {archive.peep}\n{path.as_uri()}\n" in result.stderr
    assert not venv.installed("cmdpath")


def test_direct_reference_in_requirements_file_is_verified(venv, index, tmp_path):
    bad, good = wheel("directref", "1.0"), wheel("directrefok", "1.0")
    index.publish(tampered(bad), good)
    req = write(tmp_path / "bad.txt",
                f"# sha256: {bad.peep}\ndirectref @ {index.base}/files/{bad.filename}\n")

    result = venv.pip("install", "-r", req)

    assert_refused(result, bad)
    assert not venv.installed("directref")

    ok = venv.pip("install", "-r", write(
        tmp_path / "good.txt",
        f"# sha256: {good.peep}\ndirectrefok @ {index.base}/files/{good.filename}\n"))
    assert_ok(ok)
    assert venv.installed("directrefok")


def test_peep_era_egg_url_to_an_sdist_is_verified_before_its_code_runs(
        venv, index, tmp_path, markers):
    bad = sdist("eggurl", "1.0", marker_dir=markers)
    good = sdist("eggurlok", "1.0", marker_dir=markers)
    index.publish(tampered(bad, marker_dir=markers), good)
    req = write(tmp_path / "bad.txt",
                f"# sha256: {bad.peep}\n{index.base}/files/{bad.filename}#egg=eggurl\n")

    result = venv.pip("install", "-r", req)

    assert_refused(result, bad)
    assert marker_runs(markers, bad) == 0  # the tampered backend never ran
    assert not venv.installed("eggurl")

    ok = venv.pip("install", "-r", write(
        tmp_path / "good.txt",
        f"# sha256: {good.peep}\n{index.base}/files/{good.filename}#egg=eggurlok\n"))
    assert_ok(ok)
    assert venv.installed("eggurlok") and marker_runs(markers, good) > 0


def test_dependency_hashed_only_in_constraints_file_is_verified(venv, index, tmp_path):
    app, dep = wheel("capp", "1.0", requires=["cdep>=1"]), wheel("cdep", "1.5")
    index.publish(app, tampered(dep))
    req = write(tmp_path / "requirements.txt", app.peep_block())
    constraints = write(tmp_path / "constraints.txt", dep.peep_block())

    result = venv.pip("install", "-r", req, "-c", constraints, "-i", index.url)

    assert_refused(result, dep)
    assert "constraints.txt, line 1" in result.stderr
    assert not venv.installed("capp") and not venv.installed("cdep")

    index.publish(dep)  # the genuine file, at the same URL
    ok = venv.pip("install", "-r", req, "-c", constraints, "-i", index.url)
    assert_ok(ok)
    assert venv.installed("capp") and venv.installed("cdep")


@pytest.mark.parametrize("hash_line", [
    "", "# sha256: 47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\n",
], ids=["unhashed", "hashed"])
def test_vcs_requirement_is_refused_before_anything_is_cloned(venv, tmp_path, hash_line):
    # Port 1 on 127.0.0.1: nothing listens, so a clone attempt would fail
    # differently; pip's hash-checking mode refuses VCS links before cloning.
    # A repository has no archive to hash, so even a hash line cannot admit it.
    req = write(tmp_path / "requirements.txt",
                f"{hash_line}git+https://127.0.0.1:1/vcsthing.git#egg=vcsthing\n")

    result = venv.pip("install", "-r", req)

    assert result.returncode == 1, str(result)
    assert "Traceback" not in result.output, str(result)
    assert "version control" in result.output, str(result)
    assert "Cloning" not in result.output, str(result)
    assert not venv.installed("vcsthing")


# -- where the archive goes ----------------------------------------------------------


def test_install_target_dir_is_verified(venv, index, tmp_path):
    bad, good = wheel("tgt", "1.0"), wheel("tgtok", "1.0")
    index.publish(tampered(bad), good)
    target = tmp_path / "target"

    result = venv.pip("install", "-r", write(tmp_path / "bad.txt", bad.peep_block()),
                      "-i", index.url, "--target", target)

    assert_refused(result, bad)
    assert not (target / "tgt").exists()

    ok = venv.pip("install", "-r", write(tmp_path / "good.txt", good.peep_block()),
                  "-i", index.url, "--target", target)
    assert_ok(ok)
    assert "TAMPERED" not in installed_module(target, "tgtok")


def test_install_prefix_dir_is_verified(venv, index, tmp_path):
    bad, good = wheel("pfx", "1.0"), wheel("pfxok", "1.0")
    index.publish(tampered(bad), good)
    prefix = tmp_path / "prefix"
    site = prefix / "lib" / PY / "site-packages"

    result = venv.pip("install", "-r", write(tmp_path / "bad.txt", bad.peep_block()),
                      "-i", index.url, "--prefix", prefix)

    assert_refused(result, bad)
    assert not (site / "pfx").exists()

    ok = venv.pip("install", "-r", write(tmp_path / "good.txt", good.peep_block()),
                  "-i", index.url, "--prefix", prefix)
    assert_ok(ok)
    assert "TAMPERED" not in installed_module(site, "pfxok")


def test_install_user_is_verified(user_site_venv, index, tmp_path):
    bad, good = wheel("usr", "1.0"), wheel("usrok", "1.0")
    index.publish(tampered(bad), good)
    env = {"HOME": str(tmp_path / "home"), "PYTHONUSERBASE": str(tmp_path / "userbase")}
    user_site = tmp_path / "userbase" / "lib" / PY / "site-packages"

    result = user_site_venv.pip("install", "--user", "-i", index.url,
                                "-r", write(tmp_path / "bad.txt", bad.peep_block()), env=env)

    assert_refused(result, bad)
    assert "does not match" in result.stderr  # the hook's refusal, not pip's --user error
    assert not (user_site / "usr").exists()

    ok = user_site_venv.pip("install", "--user", "-i", index.url,
                            "-r", write(tmp_path / "good.txt", good.peep_block()), env=env)
    assert_ok(ok)
    assert "TAMPERED" not in installed_module(user_site, "usrok")
    assert not user_site_venv.installed("usrok")  # it went to the user site


# -- which archive pip picks ----------------------------------------------------------


def test_no_binary_all_takes_the_sdist_and_verifies_it(venv, index, tmp_path, markers):
    # The genuine wheel is there too, but --no-binary leaves only the sdist.
    bad_whl, bad_sdist = wheel("nobin", "1.0"), sdist("nobin", "1.0", marker_dir=markers)
    good_whl, good_sdist = wheel("nobinok", "1.0"), sdist("nobinok", "1.0", marker_dir=markers)
    index.publish(bad_whl, tampered(bad_sdist, marker_dir=markers), good_whl, good_sdist)
    block = "# sha256: {}\n# sha256: {}\n{}==1.0\n"

    result = venv.pip("install", "--no-binary", ":all:", "-i", index.url, "-r",
                      write(tmp_path / "bad.txt", block.format(bad_whl.peep, bad_sdist.peep,
                                                               "nobin")))

    assert_refused(result, bad_sdist)
    assert "an sdist" in result.stderr
    assert marker_runs(markers, bad_sdist) == 0
    assert not venv.installed("nobin")

    ok = venv.pip("install", "--no-binary", ":all:", "-i", index.url, "-r",
                  write(tmp_path / "good.txt", block.format(good_whl.peep, good_sdist.peep,
                                                            "nobinok")))
    assert_ok(ok)
    assert venv.installed("nobinok") and marker_runs(markers, good_sdist) > 0


def test_only_binary_all_takes_the_wheel_and_verifies_it(venv, index, tmp_path, markers):
    bad_whl, bad_sdist = wheel("onlybin", "1.0"), sdist("onlybin", "1.0", marker_dir=markers)
    good_whl, good_sdist = wheel("onlybinok", "1.0"), sdist("onlybinok", "1.0",
                                                            marker_dir=markers)
    index.publish(tampered(bad_whl), bad_sdist, good_whl, good_sdist)
    block = "# sha256: {}\n# sha256: {}\n{}==1.0\n"

    result = venv.pip("install", "--only-binary", ":all:", "-i", index.url, "-r",
                      write(tmp_path / "bad.txt", block.format(bad_whl.peep, bad_sdist.peep,
                                                               "onlybin")))

    assert_refused(result, bad_whl)
    assert "a wheel" in result.stderr
    assert marker_runs(markers, bad_sdist) == 0  # no fallback to the sdist
    assert not venv.installed("onlybin")

    ok = venv.pip("install", "--only-binary", ":all:", "-i", index.url, "-r",
                  write(tmp_path / "good.txt", block.format(good_whl.peep, good_sdist.peep,
                                                            "onlybinok")))
    assert_ok(ok)
    assert venv.installed("onlybinok") and marker_runs(markers, good_sdist) == 0


def test_prefer_binary_is_verified(venv, index, tmp_path, markers):
    # Only the wheel is hashed; the sdist beside it must not be a way around that.
    bad_whl, bad_sdist = wheel("prefbin", "1.0"), sdist("prefbin", "1.0", marker_dir=markers)
    good_whl, good_sdist = wheel("prefbinok", "1.0"), sdist("prefbinok", "1.0",
                                                            marker_dir=markers)
    index.publish(tampered(bad_whl), bad_sdist, good_whl, good_sdist)

    result = venv.pip("install", "--prefer-binary", "-i", index.url,
                      "-r", write(tmp_path / "bad.txt", bad_whl.peep_block()))

    assert_refused(result, bad_whl)
    assert marker_runs(markers, bad_sdist) == 0
    assert not venv.installed("prefbin")

    ok = venv.pip("install", "--prefer-binary", "-i", index.url,
                  "-r", write(tmp_path / "good.txt", good_whl.peep_block()))
    assert_ok(ok)
    assert venv.installed("prefbinok") and marker_runs(markers, good_sdist) == 0


def test_no_deps_is_verified_and_fetches_no_dependency(venv, index, tmp_path):
    # ndep is on no index: with --no-deps it is neither fetched nor needs a hash.
    bad = wheel("nodeps", "1.0", requires=["ndep"])
    good = wheel("nodepsok", "1.0", requires=["ndep"])
    index.publish(tampered(bad), good)

    result = venv.pip("install", "--no-deps", "-i", index.url,
                      "-r", write(tmp_path / "bad.txt", bad.peep_block()))

    assert_refused(result, bad)
    assert not venv.installed("nodeps")

    ok = venv.pip("install", "--no-deps", "-i", index.url,
                  "-r", write(tmp_path / "good.txt", good.peep_block()))
    assert_ok(ok)
    assert venv.installed("nodepsok") and not venv.installed("ndep")


def test_requirement_excluded_by_marker_needs_no_hash_and_is_not_fetched(venv, index,
                                                                          tmp_path):
    # mkgamma is on no index: were pip to look for it, the install would fail.
    alpha = wheel("mkalpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt",
                alpha.peep_block() + 'mkgamma==1.0; python_version < "3"\n')

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert_ok(result)
    assert venv.installed("mkalpha") and not venv.installed("mkgamma")


# -- what is already there ------------------------------------------------------------


def test_upgrade_is_verified_and_keeps_the_old_version_when_refused(venv, index, tmp_path):
    old, new = wheel("upg", "1.0"), wheel("upg", "2.0")
    index.publish(old, tampered(new))
    assert_ok(venv.pip("install", "-i", index.url,
                       "-r", write(tmp_path / "old.txt", old.peep_block())))
    req = write(tmp_path / "new.txt", new.peep_block())

    result = venv.pip("install", "--upgrade", "-i", index.url, "-r", req)

    assert_refused(result, new)
    assert (venv.site_packages / "upg-1.0.dist-info").is_dir()
    assert not (venv.site_packages / "upg-2.0.dist-info").exists()
    assert "TAMPERED" not in installed_module(venv.site_packages, "upg")

    index.publish(new)
    ok = venv.pip("install", "--upgrade", "-i", index.url, "-r", req)
    assert_ok(ok)
    assert (venv.site_packages / "upg-2.0.dist-info").is_dir()
    assert not (venv.site_packages / "upg-1.0.dist-info").exists()


def test_force_reinstall_is_verified(venv, index, tmp_path):
    good = wheel("frc", "1.0")
    index.publish(good)
    req = write(tmp_path / "requirements.txt", good.peep_block())
    assert_ok(venv.pip("install", "-i", index.url, "-r", req))

    index.publish(tampered(good))
    result = venv.pip("install", "--force-reinstall", "-i", index.url, "-r", req)

    assert_refused(result, good)
    assert "TAMPERED" not in installed_module(venv.site_packages, "frc")

    index.publish(good)
    ok = venv.pip("install", "--force-reinstall", "-i", index.url, "-r", req)
    assert_ok(ok)
    assert "Successfully installed frc-1.0" in ok.stdout


def test_download_reverifies_a_stale_file_already_in_the_destination(venv, index, tmp_path):
    good = wheel("stale", "1.0")
    bad = tampered(good)
    dest = tmp_path / "downloads"
    req = write(tmp_path / "requirements.txt", good.peep_block())

    # A tampered file of the same name sits in -d; the index has the real one.
    bad.write(dest)
    index.publish(good)
    ok = venv.pip("download", "-r", req, "-i", index.url, "-d", dest)
    assert_ok(ok)
    assert (dest / good.filename).read_bytes() == good.data

    # Both the stale file and the index are tampered: nothing can be trusted.
    bad.write(dest)
    index.publish(bad)
    result = venv.pip("download", "-r", req, "-i", index.url, "-d", dest)
    assert_refused(result, good)
    assert "Saved" not in result.output
    assert not (dest / good.filename).exists()  # pip dropped the stale file, kept nothing


def test_http_cache_replay_is_verified_like_a_download(venv, tmp_path, tls_cert):
    # pip caches only HTTPS responses, and plain-HTTP ones from a --trusted-host
    # on pip 21+ (pip 20.3 mounts its trusted-host caching adapter for https://
    # only): so this index speaks TLS with a self-signed certificate, named
    # with --trusted-host as one would a private mirror, and marks its files
    # cacheable as PyPI does.
    index = Index(tmp_path / "caching-index", tls=tls_cert, cacheable_files=True)
    try:
        good = wheel("httpc", "1.0")
        index.publish(good)
        cache = tmp_path / "cache"
        host = index.base.split("//", 1)[1]
        pip_args = ("-i", index.url, "--trusted-host", host, "--cache-dir", cache)
        req = write(tmp_path / "requirements.txt", good.peep_block())
        assert_ok(venv.pip("install", "-r", req, *pip_args))
        assert any(p.is_file() for p in cache.glob("http*/**/*")), "nothing was cached"
        # From now on the file can only come from the HTTP cache.
        (index.files / good.filename).unlink()
        venv.reset()

        other = tampered(good)  # a hash the cached file does not have
        result = venv.pip("install", "-r", write(tmp_path / "other.txt", other.peep_block()),
                          *pip_args)

        assert_refused(result, other)
        assert "Using cached" in result.stdout
        assert f"Got       # sha256: {good.peep}" in result.stderr  # the cached bytes
        assert not venv.installed("httpc")

        # The control: the cached file is still replayed, and installs when it matches.
        ok = venv.pip("install", "-r", req, *pip_args)
        assert_ok(ok)
        assert venv.installed("httpc")
    finally:
        index.close()


def test_built_wheel_cache_is_bypassed(venv, index, tmp_path, markers):
    good = sdist("wcache", "1.0", marker_dir=markers)
    index.publish(good)
    cache = tmp_path / "cache"
    req = write(tmp_path / "requirements.txt", good.peep_block())
    assert_ok(venv.pip("install", "-r", req, "-i", index.url, "--cache-dir", cache))
    first_build = marker_runs(markers, good)
    assert first_build > 0

    built = list((cache / "wheels").rglob("*.whl"))
    assert built, "pip cached no built wheel: nothing to tamper with"
    evil = wheel("wcache", "1.0", payload="TAMPERED = True")
    for path in built:
        assert path.name == evil.filename
        path.write_bytes(evil.data)
    venv.reset()

    result = venv.pip("install", "-r", req, "-i", index.url, "--cache-dir", cache)

    assert_ok(result)
    assert "TAMPERED" not in installed_module(venv.site_packages, "wcache")
    assert marker_runs(markers, good) > first_build  # built again from the verified sdist


# -- the legacy resolver --------------------------------------------------------------


def test_legacy_resolver_is_verified(venv, index, tmp_path):
    # --use-deprecated=legacy-resolver exists on every supported pip (20.3..26.3).
    app, dep = wheel("lgapp", "1.0", requires=["lgdep>=1"]), wheel("lgdep", "1.5")
    index.publish(tampered(app), dep)
    req = write(tmp_path / "requirements.txt", app.peep_block() + dep.peep_block())
    legacy = "--use-deprecated=legacy-resolver"

    result = venv.pip("install", legacy, "-r", req, "-i", index.url)

    assert_refused(result, app)
    assert not venv.installed("lgapp") and not venv.installed("lgdep")

    index.publish(app, tampered(dep))  # now the dependency is the altered one
    result = venv.pip("install", legacy, "-r", req, "-i", index.url)

    assert_refused(result, dep)
    assert not venv.installed("lgapp") and not venv.installed("lgdep")

    index.publish(dep)
    ok = venv.pip("install", legacy, "-r", req, "-i", index.url)
    assert_ok(ok)
    assert venv.installed("lgapp") and venv.installed("lgdep")


def test_legacy_resolver_dependency_hashed_only_in_constraints_file(venv, index, tmp_path):
    app, dep = wheel("lcapp", "1.0", requires=["lcdep>=1"]), wheel("lcdep", "1.5")
    index.publish(app, tampered(dep))
    req = write(tmp_path / "requirements.txt", app.peep_block())
    constraints = write(tmp_path / "constraints.txt", dep.peep_block())
    legacy = "--use-deprecated=legacy-resolver"

    result = venv.pip("install", legacy, "-r", req, "-c", constraints, "-i", index.url)

    assert_refused(result, dep)
    assert not venv.installed("lcapp") and not venv.installed("lcdep")

    index.publish(dep)
    ok = venv.pip("install", legacy, "-r", req, "-c", constraints, "-i", index.url)
    assert_ok(ok)
    assert venv.installed("lcapp") and venv.installed("lcdep")
