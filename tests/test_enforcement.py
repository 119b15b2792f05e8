"""An unchanged `pip install -r` (and download, wheel) under the hook, with real pip."""

from __future__ import annotations

from tests._support.archives import sdist, tampered, wheel
from tests._support.outcomes import refused, write
from tests._support.venvs import Venv


def test_good_peep_hash_installs(venv: Venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt", alpha.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha")


def test_tampered_wheel_is_refused_and_nothing_installed(venv, index, tmp_path):
    good = wheel("alpha", "1.0")
    bad = tampered(good)
    index.publish(bad)
    req = write(tmp_path / "requirements.txt", good.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert not venv.installed("alpha")
    assert f"# sha256: {good.peep}" in result.stderr  # expected, as the file wrote it
    assert f"# sha256: {bad.peep}" in result.stderr  # what was got
    assert "requirements.txt, line 1" in result.stderr
    assert "does not match" in result.stderr


def test_tampered_sdist_is_refused_before_its_code_runs(venv, index, tmp_path, markers):
    good = sdist("beta", "2.0", marker_dir=markers)
    index.publish(tampered(good, marker_dir=markers))
    req = write(tmp_path / "requirements.txt", good.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert not venv.installed("beta")
    assert list(markers.iterdir()) == []
    assert "an sdist" in result.stderr


def test_good_sdist_installs_and_its_backend_runs(venv, index, tmp_path, markers):
    # The control for the test above: the marker does appear when the hash matches.
    good = sdist("beta", "2.0", marker_dir=markers)
    index.publish(good)
    req = write(tmp_path / "requirements.txt", good.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("beta")
    assert (markers / "beta-2.0").exists()


def test_missing_hash_is_refused_with_block_to_paste(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt", "alpha==1.0\n")

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert not venv.installed("alpha")
    assert f"# sha256: {alpha.peep}\nalpha==1.0\n" in result.stderr
    assert f"alpha==1.0 --hash=sha256:{alpha.sha256}" in result.stderr
    assert str(req) in result.stderr


def test_unpinned_requirement_without_hash_gets_a_pinned_block(venv, index, tmp_path):
    alpha = wheel("alpha", "1.3")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt", "alpha\n")

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert f"# sha256: {alpha.peep}\nalpha==1.3\n" in result.stderr


def test_unpinned_requirement_with_hash_is_refused_on_every_pip(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt", f"# sha256: {alpha.peep}\nalpha\n")

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert not venv.installed("alpha")
    assert "no exact version" in result.stderr


def test_bare_install_without_requirements_file_is_refused(venv, index):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)

    result = venv.pip("install", "alpha==1.0", "-i", index.url)

    assert refused(result), str(result)
    assert not venv.installed("alpha")
    assert f"# sha256: {alpha.peep}\nalpha==1.0" in result.stderr


def test_stacked_hashes_any_one_matches_across_blank_lines_and_comments(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    other = wheel("alpha", "1.0", payload="OTHER = 1")  # e.g. another platform's wheel
    index.publish(alpha)
    req = write(
        tmp_path / "requirements.txt",
        f"# sha256: {other.peep}\n\n# the wheel we get here:\n"
        f"# sha256: {alpha.peep}\n# another comment\n\nalpha==1.0\n",
    )

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha")
    # The record names the hash that matched, not just the first one listed.
    record = next(venv.site_packages.glob("alpha-1.0.dist-info/PEEP_HOOK.json")).read_text()
    assert alpha.sha256 in record and other.sha256 not in record


def test_nested_requirements_file_with_relative_path(venv, index, tmp_path):
    alpha, gamma = wheel("alpha", "1.0"), wheel("gamma", "3.0")
    index.publish(alpha, tampered(gamma))
    write(tmp_path / "reqs" / "sub" / "inner.txt", gamma.peep_block())
    outer = write(tmp_path / "reqs" / "outer.txt", alpha.peep_block() + "-r sub/inner.txt\n")

    result = venv.pip("install", "-r", outer, "-i", index.url, cwd=tmp_path)

    # The nested file's hash is enforced: gamma was tampered with.
    assert refused(result), str(result)
    assert f"# sha256: {gamma.peep}" in result.stderr
    assert "inner.txt, line 1" in result.stderr
    assert not venv.installed("alpha") and not venv.installed("gamma")


def test_nested_requirements_file_installs_when_hashes_match(venv, index, tmp_path):
    alpha, gamma = wheel("alpha", "1.0"), wheel("gamma", "3.0")
    index.publish(alpha, gamma)
    write(tmp_path / "reqs" / "sub" / "inner.txt", gamma.peep_block())
    outer = write(tmp_path / "reqs" / "outer.txt", alpha.peep_block() + "-r sub/inner.txt\n")

    result = venv.pip("install", "-r", outer, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha") and venv.installed("gamma")


def test_option_line_between_hash_and_requirement_resets_the_block(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(
        tmp_path / "requirements.txt",
        f"# sha256: {alpha.peep}\n--index-url {index.url}\nalpha==1.0\n",
    )

    result = venv.pip("install", "-r", req)

    assert refused(result), str(result)
    assert not venv.installed("alpha")
    assert "has no hash" in result.stderr
    assert "applies to nothing" in result.stderr  # the warning names the stray hash


def test_unlisted_dependency_is_refused(venv, index, tmp_path):
    app, dep = wheel("app", "1.0", requires=["dep>=1"]), wheel("dep", "1.5")
    index.publish(app, dep)
    req = write(tmp_path / "requirements.txt", app.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert not venv.installed("app") and not venv.installed("dep")
    assert f"# sha256: {dep.peep}\ndep==1.5\n" in result.stderr


def test_listed_dependency_installs(venv, index, tmp_path):
    app, dep = wheel("app", "1.0", requires=["dep>=1"]), wheel("dep", "1.5")
    index.publish(app, dep)
    req = write(tmp_path / "requirements.txt", app.peep_block() + dep.peep_block())

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("app") and venv.installed("dep")


def test_pip_hash_option_and_peep_comments_in_one_file(venv, index, tmp_path):
    alpha, gamma = wheel("alpha", "1.0"), wheel("gamma", "3.0")
    index.publish(alpha, gamma)
    req = write(
        tmp_path / "requirements.txt",
        alpha.peep_block() + f"gamma==3.0 --hash=sha256:{gamma.sha256}\n",
    )

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha") and venv.installed("gamma")


def test_pip_hash_option_mismatch_is_reported_in_pips_form(venv, index, tmp_path):
    alpha, gamma = wheel("alpha", "1.0"), wheel("gamma", "3.0")
    index.publish(alpha, tampered(gamma))
    req = write(
        tmp_path / "requirements.txt",
        alpha.peep_block() + f"gamma==3.0 --hash=sha256:{gamma.sha256}\n",
    )

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert f"Expected  --hash=sha256:{gamma.sha256}" in result.stderr
    assert not venv.installed("alpha") and not venv.installed("gamma")


def test_malformed_hash_line_is_refused_naming_file_and_line(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(
        tmp_path / "requirements.txt",
        f"# ok\n# sha256: {alpha.peep[:-1]}\nalpha==1.0\n",
    )

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert f"malformed hash lines in {req}" in result.stderr
    assert "line 2:" in result.stderr
    assert not venv.installed("alpha")


def test_malformed_hash_in_constraints_file_is_refused(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    constraints = write(tmp_path / "constraints.txt", "# sha256: not-a-hash\nalpha==1.0\n")
    req = write(tmp_path / "requirements.txt", alpha.peep_block())

    result = venv.pip("install", "-r", req, "-c", constraints, "-i", index.url)

    assert refused(result), str(result)
    assert f"malformed hash lines in {constraints}" in result.stderr


def test_requirements_file_over_http(venv, index):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    url = index.serve_text("reqs/requirements.txt", alpha.peep_block())

    result = venv.pip("install", "-r", url, "-i", index.url)

    assert refused(result), str(result)
    assert f"# sha256: {alpha.peep}" in result.stderr


def test_find_links_directory_is_verified(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    req = write(tmp_path / "requirements.txt", alpha.peep_block())

    result = venv.pip("install", "-r", req, "--no-index", "--find-links", index.files)

    assert refused(result), str(result)
    assert not venv.installed("alpha")


def test_download_is_verified(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(tampered(alpha))
    req = write(tmp_path / "requirements.txt", alpha.peep_block())
    dest = tmp_path / "downloads"

    result = venv.pip("download", "-r", req, "-i", index.url, "-d", dest)

    assert refused(result), str(result)
    assert not (dest / alpha.filename).exists()


def test_download_with_good_hash_saves_the_archive(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt", alpha.peep_block())
    dest = tmp_path / "downloads"

    result = venv.pip("download", "-r", req, "-i", index.url, "-d", dest)

    assert result.returncode == 0, str(result)
    assert (dest / alpha.filename).read_bytes() == alpha.data


def test_wheel_is_verified(venv, index, tmp_path, markers):
    good = sdist("beta", "2.0", marker_dir=markers)
    index.publish(tampered(good, marker_dir=markers))
    req = write(tmp_path / "requirements.txt", good.peep_block())
    dest = tmp_path / "wheels"

    result = venv.pip("wheel", "-r", req, "-i", index.url, "-w", dest)

    assert refused(result), str(result)
    assert list(markers.iterdir()) == []
    assert not list(dest.glob("*.whl")) if dest.exists() else True


def test_no_require_hashes_cannot_switch_checking_off(venv, index, tmp_path, pip_version):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt", "alpha==1.0\n")

    result = venv.pip("install", "-r", req, "-i", index.url, "--no-require-hashes")

    # pips before 26.2 do not know the option (usage error, 2); newer ones are refused.
    assert result.returncode in (1, 2), str(result)
    assert not venv.installed("alpha")


def test_peep_hook_off_turns_the_hook_off_for_one_command(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt", "alpha==1.0\n")

    result = venv.pip("install", "-r", req, "-i", index.url, env={"PEEP_HOOK": "off"})

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha")


def test_unknown_peep_hook_value_stays_strict(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "requirements.txt", "alpha==1.0\n")

    result = venv.pip("install", "-r", req, "-i", index.url, env={"PEEP_HOOK": "of"})

    assert refused(result), str(result)
    assert "PEEP_HOOK='of'" in result.stderr


def test_a_requirements_file_named_like_the_help_option_is_still_checked(venv, index, tmp_path):
    # "-h" here is the value of -r, not a request for help: pip installs from it.
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    write(tmp_path / "-h", "alpha==1.0\n")

    result = venv.pip("install", "-i", index.url, "-r", "-h", cwd=tmp_path)

    assert refused(result), str(result)
    assert not venv.installed("alpha")
