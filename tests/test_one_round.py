"""One run reports every missing hash (issue 11, items 2 and 3).

Wheels without hashes are fetched and hashed, never run, and pip goes on
resolving; the blocks of all of them come out together, nothing installed.
An unhashed sdist ends the collection; a mismatch still stops at once. Build
dependencies without hashes, dependencies of build dependencies included,
come out in one run too, labelled, and pasting them once is enough.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile

import pytest

from tests._support.archives import Archive, backend_wheel, sdist, tampered, wheel
from tests._support.outcomes import refused
from tests._support.pips import BUILD_MODES, LEGACY, MODE_IDS

# A block, possibly indented (pip indents warnings, and a build child's output).
_BLOCK = re.compile(r"^[ \t]*# sha256: (\S+)\n[ \t]*(\S+)$", re.MULTILINE)


def blocks_in(output: str) -> dict[str, str]:
    """requirement -> peep hash, for every complete block printed."""
    return {pin: peep for peep, pin in _BLOCK.findall(output)}


def pasted(blocks: dict[str, str]) -> str:
    return "".join(f"# sha256: {peep}\n{pin}\n" for pin, peep in blocks.items())


def nothing_installed(venv, *archives: Archive) -> bool:
    return not any(venv.installed(a.name) for a in archives)


@pytest.fixture
def forty(index):
    """40 wheels, every fourth with a dependency (one of those with one of its own)."""
    leaf = wheel("leaf", "3.0")
    deps = [wheel(f"dep{i:02d}", "1.0", requires=["leaf>=1"] if i == 0 else ())
            for i in range(10)]
    tops = [wheel(f"pkg{i:02d}", "1.0", requires=[f"dep{i // 4:02d}>=1"] if i % 4 == 0 else ())
            for i in range(40)]
    index.publish(leaf, *deps, *tops)
    return tops, deps + [leaf]


@pytest.mark.parametrize("resolver", [[], [LEGACY]], ids=["resolvelib", "legacy"])
def test_forty_unhashed_wheels_and_their_dependencies_come_out_in_one_run(
        venv, index, tmp_path, forty, resolver):
    tops, deps = forty
    req = tmp_path / "requirements.txt"
    req.write_text("".join(f"{a.pin}\n" for a in tops))

    result = venv.pip("install", "-r", req, "-i", index.url, *resolver)

    assert refused(result), str(result)
    assert nothing_installed(venv, *tops, *deps)
    shown = blocks_in(result.stderr)
    assert shown == {a.pin: a.peep for a in tops + deps}, str(result)
    assert "# via dep00==1.0" in result.stderr  # leaf: where it comes from
    assert "# via pkg04==1.0" in result.stderr
    assert f"In {req}, lines 1, 2, 3" in result.stderr

    # The blocks are complete: pasted once, the next run goes through.
    req.write_text(pasted(shown))
    again = venv.pip("install", "-r", req, "-i", index.url, *resolver)
    assert again.returncode == 0, str(again)
    assert all(venv.installed(a.name) for a in tops + deps)


def test_download_saves_nothing_and_wheel_builds_nothing_while_hashes_are_missing(
        venv, index, tmp_path, markers):
    alpha, beta = wheel("alpha", "1.0"), wheel("beta", "2.0")
    gamma = sdist("gamma", "3.0", marker_dir=markers)  # hashed: built only by pip wheel
    index.publish(alpha, beta, gamma)
    req = tmp_path / "requirements.txt"
    req.write_text(f"{alpha.pin}\n{beta.pin}\n{gamma.peep_block()}")

    download = venv.pip("download", "-r", req, "-i", index.url, "-d", tmp_path / "dl")
    built = venv.pip("wheel", "-r", req, "-i", index.url, "-w", tmp_path / "wh")

    for result in (download, built):
        assert refused(result), str(result)
        assert set(blocks_in(result.stderr)) == {alpha.pin, beta.pin}
    assert not (tmp_path / "dl").exists() or list((tmp_path / "dl").iterdir()) == []
    assert not (tmp_path / "wh").exists() or list((tmp_path / "wh").iterdir()) == []


@pytest.mark.parametrize("resolver", [[], [LEGACY]], ids=["resolvelib", "legacy"])
def test_an_unhashed_sdist_ends_the_collection_before_its_code_runs(
        venv, index, tmp_path, markers, resolver):
    alpha = wheel("alpha", "1.0")
    beta = sdist("beta", "2.0", marker_dir=markers)
    index.publish(alpha, beta)
    req = tmp_path / "requirements.txt"
    req.write_text(f"{alpha.pin}\n{beta.pin}\n")

    result = venv.pip("install", "-r", req, "-i", index.url, *resolver)

    assert refused(result), str(result)
    assert list(markers.iterdir()) == []  # beta's backend never ran
    assert nothing_installed(venv, alpha, beta)
    assert blocks_in(result.stderr) == {alpha.pin: alpha.peep, beta.pin: beta.peep}
    assert "stopped collecting at beta==2.0 (beta-2.0.tar.gz): an sdist without a hash" \
        in result.stderr


def test_a_mismatch_still_stops_at_once(venv, index, tmp_path):
    alpha, beta = wheel("alpha", "1.0"), wheel("beta", "2.0")
    index.publish(tampered(alpha), beta)
    req = tmp_path / "requirements.txt"
    req.write_text(f"{alpha.peep_block()}{beta.pin}\n")

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert "does not match" in result.stderr
    assert f"# sha256: {alpha.peep}    (requirements.txt, line 1)" in result.stderr
    assert "beta" not in result.output  # never fetched: pip stopped at alpha
    assert nothing_installed(venv, alpha, beta)


def test_a_mismatch_names_the_missing_hashes_found_before_it(venv, index, tmp_path):
    alpha, beta = wheel("alpha", "1.0"), wheel("beta", "2.0")
    index.publish(alpha, tampered(beta))
    req = tmp_path / "requirements.txt"
    req.write_text(f"{alpha.pin}\n{beta.peep_block()}")

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert "does not match" in result.stderr
    assert blocks_in(result.stderr) == {alpha.pin: alpha.peep}
    assert nothing_installed(venv, alpha, beta)


def test_missing_hashes_are_audited_as_missing_never_as_verified(venv, index, tmp_path):
    alpha, beta, gamma = wheel("alpha", "1.0"), wheel("beta", "2.0"), wheel("gamma", "3.0")
    index.publish(alpha, beta, gamma)
    log = tmp_path / "audit.jsonl"
    req = tmp_path / "requirements.txt"
    req.write_text(f"{alpha.pin}\n{beta.pin}\n{gamma.peep_block()}")

    result = venv.pip("install", "-r", req, "-i", index.url,
                      env={"PEEP_HOOK_AUDIT_LOG": str(log)})

    assert refused(result), str(result)
    verdicts = {(e["requirement"], e["verdict"])
                for e in map(json.loads, log.read_text().splitlines())
                if e["verdict"] in ("missing", "verified")}
    assert verdicts == {("alpha==1.0", "missing"), ("beta==2.0", "missing"),
                        ("gamma==3.0", "verified")}


def test_warn_policy_reports_each_missing_hash_and_installs_without_a_record(
        venv, index, tmp_path):
    alpha, beta = wheel("alpha", "1.0"), wheel("beta", "2.0")
    index.publish(alpha, beta)
    req = tmp_path / "requirements.txt"
    req.write_text(f"{alpha.pin}\n{beta.pin}\n")

    result = venv.pip("install", "-r", req, "-i", index.url, env={"PEEP_HOOK": "warn"})

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha") and venv.installed("beta")
    assert blocks_in(result.output) == {alpha.pin: alpha.peep, beta.pin: beta.peep}
    # Installed unverified: no record says it was verified.
    assert not list(venv.site_packages.glob("alpha-1.0.dist-info/PEEP_HOOK.json"))


# -- build dependencies ----------------------------------------------------------


def _wheel_of(name: str, version: str, files: dict[str, str],
              requires: tuple[str, ...] = ()) -> Archive:
    """A wheel holding ``files`` (path -> text)."""
    dist_info = f"{name}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {**files, f"{dist_info}/METADATA": meta,
             f"{dist_info}/WHEEL": ("Wheel-Version: 1.0\nGenerator: peep-hook-tests\n"
                                    "Root-Is-Purelib: true\nTag: py3-none-any\n")}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())
        record.append(f"{path},sha256={digest.decode().rstrip('=')},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path, text in files.items():
            zf.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), text)
    return Archive(name, version, f"{name}-{version}-py3-none-any.whl", buffer.getvalue())


def _code_of(archive: Archive, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zf:
        return zf.read(f"{name}/__init__.py").decode()


@pytest.fixture
def setuptools_and_wheel(markers):
    """An sdist whose pyproject.toml asks for ``setuptools>=40.8.0`` and
    ``wheel`` (as legacy-era projects do), with stand-ins for both on the
    index: setuptools.build_meta builds it (and leaves a marker when imported);
    wheel needs packaging, as wheel 0.45 does."""
    backend = _code_of(backend_wheel("setuptools", "70.0", marker_dir=markers), "setuptools")
    setuptools = _wheel_of("setuptools", "70.0", {
        "setuptools/__init__.py": "",
        "setuptools/build_meta.py": backend,
    })
    wheel_ = _wheel_of("wheel", "0.45.1", {"wheel/__init__.py": ""},
                       requires=("packaging>=24.0",))
    packaging = wheel("packaging", "24.2")
    app = sdist("app", "1.0", marker_dir=markers, backend="setuptools.build_meta",
                build_requires=["setuptools>=40.8.0", "wheel"])
    return app, [setuptools, wheel_, packaging]


@pytest.mark.parametrize("mode", BUILD_MODES, ids=MODE_IDS)
def test_build_dependencies_and_theirs_come_out_in_one_run_and_one_paste_is_enough(
        venv, index, tmp_path, markers, setuptools_and_wheel, mode):
    app, build = setuptools_and_wheel
    index.publish(app, *build)
    req = tmp_path / "requirements.txt"
    req.write_text(app.peep_block())

    first = venv.pip("install", "-r", req, "-i", index.url, *mode)

    assert refused(first), str(first)
    assert not (markers / "setuptools-70.0").exists()  # the backend never ran
    assert not venv.installed("app")
    assert blocks_in(first.output) == {a.pin: a.peep for a in build}, str(first)
    for archive in build:  # once each: the parent shows them, the child only names them
        assert first.output.count(f"# sha256: {archive.peep}") == 1, str(first)
    assert (f"Build dependencies of app==1.0 (app-1.0.tar.gz) that no file pins with a "
            f"hash: add these blocks to {req}") in first.stderr
    assert "# build dependency of app==1.0" in first.stderr
    assert "# via wheel==0.45.1" in first.stderr  # packaging: where it comes from

    constraints = tmp_path / "constraints.txt"
    constraints.write_text(pasted(blocks_in(first.output)))
    second = venv.pip("install", "-r", req, "-c", constraints, "-i", index.url, *mode)

    assert second.returncode == 0, str(second)
    assert venv.installed("app") and (markers / "setuptools-70.0").exists()


def test_missing_build_dependencies_come_with_the_blocks_found_before_them(
        venv, index, tmp_path, markers, setuptools_and_wheel):
    app, build = setuptools_and_wheel
    alpha = wheel("alpha", "1.0")
    index.publish(alpha, app, *build)
    req = tmp_path / "requirements.txt"
    req.write_text(f"{alpha.pin}\n{app.peep_block()}")

    result = venv.pip("install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert blocks_in(result.output) == {a.pin: a.peep for a in [alpha, *build]}
    assert "stopped collecting at app==1.0 (app-1.0.tar.gz)" in result.stderr
    assert not venv.installed("alpha") and not venv.installed("app")


@pytest.mark.parametrize("mode", BUILD_MODES, ids=MODE_IDS)
def test_an_expected_hash_checked_in_a_build_says_where_it_came_from(
        venv, index, tmp_path, markers, mode):
    backend = backend_wheel("markerbackend", "1.0", marker_dir=markers)
    evil = backend_wheel("markerbackend", "1.0", marker_dir=markers, payload="EVIL = 1")
    app = sdist("app", "1.0", marker_dir=markers, backend="markerbackend",
                build_requires=["markerbackend"])
    index.publish(app, evil)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(f"# pinned for the build\n{backend.peep_block()}")
    req = tmp_path / "requirements.txt"
    req.write_text(app.peep_block())

    result = venv.pip("install", "-r", req, "-c", constraints, "-i", index.url, *mode)

    assert refused(result), str(result)
    assert not (markers / "markerbackend-1.0").exists()
    # The build installs it from a requirement string, not from a line (in a
    # child pip, which read no file at all): peep-hook's "Expected" line names
    # the file that pinned the hash all the same.
    expected = [line for line in result.output.splitlines() if "Expected  " in line]
    assert expected, str(result)
    assert all("constraints.txt" in line for line in expected), str(result)
    assert "Add the blocks shown above" not in result.output  # no block to add
