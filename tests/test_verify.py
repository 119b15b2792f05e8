"""``peep-hook verify``: the environment against its requirements files, and
its installed files against their RECORD.

Most tests install with the real pip under test in the hooked venv and run the
venv's own ``peep-hook verify``; the rest check the reading of RECORD and of
requirements files in-process, on a site-packages directory built by hand.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import io
import json
import marshal
import py_compile
import sys
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from peep_hook.commands.cli import main
from peep_hook.core import install_record
from tests._support.archives import Archive, sdist, tampered, wheel
from tests._support.index import Index
from tests._support.venvs import Result, Venv, run


def peep_verify(venv: Venv, *args: str | Path, cwd: Path, **env: str) -> Result:
    # The console script, from a directory without a peep_hook of its own:
    # the venv's installed copy runs, as on a deployed machine.
    return run([venv.bin / "peep-hook", "verify", *args], cwd=cwd, env=env or None)


def kinds(result: Result) -> dict[str, list[dict]]:
    report = json.loads(result.stdout)
    found: dict[str, list[dict]] = {}
    for problem in report["problems"]:
        found.setdefault(problem["kind"], []).append(problem)
    return found


def install(venv: Venv, index, req: Path, **env: str) -> None:
    result = venv.pip("install", "-r", req, "-i", index.url, env=env or None)
    assert result.returncode == 0, str(result)


def pyc(source: str, header: bytes = importlib.util.MAGIC_NUMBER + bytes(12)) -> bytes:
    """Byte code of ``source`` as this Python (the venvs' Python too) writes it."""
    return header + marshal.dumps(compile(source, "somewhere.py", "exec", dont_inherit=True))


CACHED = f"__pycache__/__init__.{sys.implementation.cache_tag}.pyc"


def two_wheels(index, tmp_path: Path) -> tuple[Archive, Archive, Path]:
    alpha, beta = wheel("alpha", "1.0"), wheel("beta", "2.0", payload="DATA = 1")
    index.publish(alpha, beta)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block() + f"beta==2.0 --hash=sha256:{beta.sha256}\n")
    return alpha, beta, req


# -- in a real venv, after real installs ----------------------------------------------


def test_environment_installed_by_the_hook_is_clean(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    install(venv, index, req)

    with_files = peep_verify(venv, "-r", req, cwd=tmp_path)
    assert with_files.returncode == 0, str(with_files)
    assert "result:          clean" in with_files.stdout
    without_files = peep_verify(venv, cwd=tmp_path)
    assert without_files.returncode == 0, str(without_files)


def test_a_modified_file_is_reported(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    module = venv.site_packages / "alpha" / "__init__.py"
    module.write_text(module.read_text() + "import os  # injected\n")

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)

    assert result.returncode == 1, str(result)
    [modified] = kinds(result)["modified"]
    assert modified["distribution"] == "alpha" and modified["path"] == str(module)
    text = peep_verify(venv, cwd=tmp_path)  # without files too
    assert text.returncode == 1 and "alpha 1.0: alpha/__init__.py" in text.stdout


def test_a_modified_file_of_the_same_size_is_reported(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    module = venv.site_packages / "beta" / "__init__.py"
    text = module.read_text()
    module.write_text(text.replace("DATA = 1", "DATA = 2"))

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)

    assert result.returncode == 1, str(result)
    assert [p["distribution"] for p in kinds(result)["modified"]] == ["beta"]


def test_a_wheel_s_own_pyc_that_pip_recompiles_is_clean(venv, index, tmp_path):
    # As the numpy wheel: a .pyc listed in RECORD with the hash of the one in
    # the wheel, which pip's byte-compilation then replaces.
    alpha = wheel("alpha", "1.0", files={f"alpha/{CACHED}": pyc("VERSION = 'stale'\n")})
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    install(venv, index, req)

    result = peep_verify(venv, "-r", req, cwd=tmp_path)

    assert result.returncode == 0, str(result)


def test_a_pyc_holding_other_code_is_reported(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    source = venv.site_packages / "alpha" / "__init__.py"
    cached = venv.site_packages / "alpha" / CACHED
    # The header pip wrote, so that Python loads the new code in place of the source.
    cached.write_bytes(pyc(source.read_text() + "INJECTED = 1\n", cached.read_bytes()[:16]))
    assert venv.python_run("-c", "import alpha; print(alpha.INJECTED)").stdout == "1\n"

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)

    assert result.returncode == 1, str(result)
    [modified] = kinds(result)["modified"]
    assert modified["path"] == str(cached) and modified["distribution"] == "alpha"
    assert "its code is not what its source compiles to" in modified["message"]


def test_a_deleted_file_is_reported_missing(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    (venv.site_packages / "beta" / "__init__.py").unlink()

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)

    assert result.returncode == 1, str(result)
    [missing] = kinds(result)["missing"]
    assert missing["distribution"] == "beta" and missing["path"].endswith("__init__.py")


def test_a_file_no_record_lists_is_reported(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    (venv.site_packages / "zz-startup.pth").write_text("import os\n")
    (venv.site_packages / "alpha" / "extra.py").write_text("")

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)

    assert result.returncode == 1, str(result)
    assert sorted(Path(p["path"]).name for p in kinds(result)["unowned"]) == [
        "extra.py", "zz-startup.pth"]


def test_an_extra_distribution_fails_unless_allowed(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    gamma = wheel("gamma", "3.0")
    index.publish(gamma)
    other = tmp_path / "other.txt"
    other.write_text(gamma.peep_block())
    install(venv, index, req)
    install(venv, index, other)

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)
    assert result.returncode == 1, str(result)
    assert [p["distribution"] for p in kinds(result)["extra"]] == ["gamma"]
    # pip and peep-hook with wrapt are in the venv too, and never extra.
    assert set(kinds(result)) == {"extra"}

    allowed = peep_verify(venv, "-r", req, "--allow-extra", cwd=tmp_path)
    assert allowed.returncode == 0, str(allowed)
    assert "gamma 3.0 is installed but no file names it" in allowed.stdout


def test_a_distribution_installed_without_the_hook_has_no_record(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    unhooked = venv.pip("install", "alpha==1.0", "beta==2.0", "-i", index.url,
                        env={"PEEP_HOOK": "off"})
    assert unhooked.returncode == 0, str(unhooked)

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)
    assert result.returncode == 1, str(result)
    assert sorted(p["distribution"] for p in kinds(result)["no-record"]) == ["alpha", "beta"]
    assert set(kinds(result)) == {"no-record"}  # the files themselves are intact
    alone = peep_verify(venv, "--json", cwd=tmp_path)
    assert alone.returncode == 1, str(alone)
    assert sorted(p["distribution"] for p in kinds(alone)["no-record"]) == ["alpha", "beta"]


def test_a_record_whose_hash_the_files_do_not_give_is_reported(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0")
    other = tampered(alpha)  # same name and version, other bytes
    index.publish(other)
    first = tmp_path / "first.txt"
    first.write_text(other.peep_block())
    install(venv, index, first)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)

    assert result.returncode == 1, str(result)
    [problem] = kinds(result)["hash-not-in-files"]
    assert problem["distribution"] == "alpha" and other.sha256 in problem["message"]
    assert peep_verify(venv, "-r", first, cwd=tmp_path).returncode == 0


def test_a_dependency_named_only_in_constraints_is_not_extra(venv, index, tmp_path):
    alpha = wheel("alpha", "1.0", requires=["beta"])
    beta = wheel("beta", "2.0")
    index.publish(alpha, beta)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(beta.peep_block())
    result = venv.pip("install", "-r", req, "-c", constraints, "-i", index.url)
    assert result.returncode == 0, str(result)

    assert peep_verify(venv, "-r", req, "-c", constraints, cwd=tmp_path).returncode == 0
    alone = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)
    assert [p["distribution"] for p in kinds(alone)["extra"]] == ["beta"]


def test_a_required_distribution_not_installed_is_reported(venv, index, tmp_path):
    _, beta, req = two_wheels(index, tmp_path)
    only_alpha = tmp_path / "alpha.txt"
    only_alpha.write_text(req.read_text().splitlines(keepends=True)[0]
                          + req.read_text().splitlines(keepends=True)[1])
    install(venv, index, only_alpha)

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)

    assert result.returncode == 1, str(result)
    [problem] = kinds(result)["not-installed"]
    assert problem["message"].startswith("beta is not installed")


def test_json_report_shape(venv, index, tmp_path):
    alpha, _, req = two_wheels(index, tmp_path)
    install(venv, index, req)

    result = peep_verify(venv, "-r", req, "--json", cwd=tmp_path)

    assert result.returncode == 0, str(result)
    report = json.loads(result.stdout)
    assert set(report) == {"clean", "interpreter", "python", "site_packages",
                           "requirement_files", "allow_extra", "deep", "archives", "checked",
                           "distributions", "problems", "notes"}
    assert report["clean"] is True and report["problems"] == []
    assert report["site_packages"] == [str(venv.site_packages)]
    assert report["requirement_files"] == [str(req)]
    assert set(report["checked"]) == {"distributions", "files", "bytes", "bytecode", "seconds"}
    dists = {d["name"]: d for d in report["distributions"]}
    assert {"alpha", "beta", "pip", "wrapt"} <= set(dists)
    assert dists["alpha"]["record"] == alpha.sha256
    assert dists["alpha"]["named_by"] == [f"{req}:2"]
    assert dists["pip"]["record"] is None and dists["pip"]["extra"] is False
    assert set(dists["alpha"]) == {"name", "version", "location", "metadata", "record",
                                   "named_by", "extra", "files", "bytes", "basis",
                                   "basis_reason"}
    assert dists["alpha"]["basis"] == "record" and report["deep"] is False
    broken = run([venv.bin / "peep-hook", "verify", "--json", "-r", tmp_path / "nope.txt"],
                 cwd=tmp_path)
    problems = json.loads(broken.stdout)["problems"]
    assert broken.returncode == 1
    assert all(set(p) == {"kind", "message", "distribution", "version", "path"}
               for p in problems)
    [unreadable] = [p for p in problems if p["kind"] == "requirements-file"]
    assert "cannot read" in unreadable["message"] and unreadable["distribution"] is None


def test_a_target_directory_is_checked_with_path(venv, index, tmp_path):
    _, _, req = two_wheels(index, tmp_path)
    target = tmp_path / "target"
    result = venv.pip("install", "--target", target, "-r", req, "-i", index.url)
    assert result.returncode == 0, str(result)

    clean = peep_verify(venv, "--path", target, "-r", req, cwd=tmp_path)
    assert clean.returncode == 0, str(clean)
    (target / "alpha" / "__init__.py").write_text("")
    assert peep_verify(venv, "--path", target, "-r", req, cwd=tmp_path).returncode == 1


# -- --deep: against the archives, trusting nothing in site-packages --------------------


def deep_files(tmp_path: Path, wheelhouse: Path, pip_version: str, hook_wheel: Path,
               *archives: Archive) -> tuple[Path, Path]:
    """A directory holding ``archives`` and the wheels the venv's own pip, wrapt
    and peep-hook came from, and a file giving all their hashes."""
    directory = tmp_path / "archives"
    directory.mkdir(exist_ok=True)
    lines = [a.peep_block() for a in archives]
    for archive in archives:
        archive.write(directory)
    tooling = [*wheelhouse.glob(f"pip-{pip_version}-*.whl"), *wheelhouse.glob("wrapt-*.whl"),
               hook_wheel]
    for path in tooling:
        data = path.read_bytes()
        (directory / path.name).write_bytes(data)
        lines.append(f"{path.name.split('-')[0]} --hash=sha256:"
                     f"{hashlib.sha256(data).hexdigest()}\n")
    tooling_file = tmp_path / "tooling.txt"
    tooling_file.write_text("".join(lines))
    return directory, tooling_file


def rewrite(site: Path, dist_info: str, path: str, data: bytes) -> None:
    """Change an installed file and its RECORD line to match, as a tamperer would."""
    (site / path).write_bytes(data)
    record = site / dist_info / "RECORD"
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    rows = [f"{path},sha256={digest},{len(data)}" if row.split(",")[0] == path else row
            for row in record.read_text().splitlines()]
    record.write_text("\n".join(rows) + "\n")


@pytest.mark.core  # verify --deep's proofs: pip's finder and session
def test_deep_a_clean_environment_with_shipped_pyc_is_clean(venv, index, tmp_path, wheelhouse,
                                                            pip_version, hook_wheel):
    alpha = wheel("alpha", "1.0", files={f"alpha/{CACHED}": pyc("VERSION = 'stale'\n")})
    index.publish(alpha)
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    install(venv, index, req)
    archives, tooling = deep_files(tmp_path, wheelhouse, pip_version, hook_wheel, alpha)

    result = peep_verify(venv, "--deep", "--archives", archives, "-r", tooling, "--json",
                         cwd=tmp_path)

    assert result.returncode == 0, str(result)
    report = json.loads(result.stdout)
    assert {d["name"]: d["basis"] for d in report["distributions"]} == {
        "alpha": "archive", "pip": "archive", "wrapt": "archive", "peep_hook": "archive"}


@pytest.mark.core  # verify --deep's proofs: pip's finder and session
def test_deep_sees_a_module_changed_with_its_record_lines_rewritten(
        venv, index, tmp_path, wheelhouse, pip_version, hook_wheel):
    alpha, beta, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    archives, tooling = deep_files(tmp_path, wheelhouse, pip_version, hook_wheel, alpha, beta)
    site = venv.site_packages
    rewrite(site, "alpha-1.0.dist-info", "alpha/__init__.py",
            (site / "alpha" / "__init__.py").read_bytes() + b"import os  # injected\n")
    cached = site / "alpha" / CACHED
    py_compile.compile(str(site / "alpha" / "__init__.py"), cfile=str(cached), doraise=True)
    with open(site / "alpha-1.0.dist-info" / "RECORD", "a") as f:  # and a module of its own
        f.write("alpha/extra.py,,\n")
    rewrite(site, "alpha-1.0.dist-info", "alpha/extra.py", b"import os\n")
    deep = ("--deep", "--archives", archives, "-r", tooling, "--json")

    assert peep_verify(venv, "-r", req, cwd=tmp_path).returncode == 0  # plain: fooled
    result = peep_verify(venv, *deep, cwd=tmp_path)
    assert result.returncode == 1, str(result)
    assert {str(site / "alpha" / "__init__.py"), str(site / "alpha" / "extra.py")} <= {
        p["path"] for p in kinds(result)["archive-mismatch"]}

    # The peep-hook record rewritten too (its bytecode hashes, its RECORD line).
    record = site / "alpha-1.0.dist-info" / install_record.RECORD_NAME
    rewrite(site, "alpha-1.0.dist-info", f"alpha-1.0.dist-info/{install_record.RECORD_NAME}",
            json.dumps({**json.loads(record.read_text()), "bytecode": {
                f"alpha/{CACHED}": "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(
                    cached.read_bytes()).digest()).decode().rstrip("=")}}).encode())
    assert peep_verify(venv, "-r", req, cwd=tmp_path).returncode == 0
    again = peep_verify(venv, *deep, cwd=tmp_path)
    assert again.returncode == 1, str(again)
    assert {p["distribution"] for p in kinds(again)["archive-mismatch"]} == {"alpha"}


@pytest.mark.core  # verify --deep's proofs: pip's finder and session
def test_deep_compares_what_a_wheel_installs_outside_site_packages(
        venv, index, tmp_path, wheelhouse, pip_version, hook_wheel):
    # .data/scripts (pip rewrites "#!python"), headers and data, where pip puts them.
    data = "gamma-1.0.data"
    gamma = wheel("gamma", "1.0", files={
        f"{data}/scripts/tool": b"#!python\nprint('tool')\n",
        f"{data}/headers/h.h": b"int gamma(void);\n",
        f"{data}/data/share/x.txt": b"shared\n",
        f"{data}/purelib/gamma_extra.py": b"EXTRA = 1\n"})
    index.publish(gamma)
    req = tmp_path / "requirements.txt"
    req.write_text(gamma.peep_block())
    installed_outside = [venv.bin / "tool", venv.path / "share" / "x.txt",
                         *venv.path.glob("include/site/python*/gamma/h.h")]
    try:
        install(venv, index, req)
        archives, tooling = deep_files(tmp_path, wheelhouse, pip_version, hook_wheel, gamma)
        deep = ("--deep", "--archives", archives, "-r", tooling, "--json")

        clean = peep_verify(venv, *deep, cwd=tmp_path)
        assert clean.returncode == 0, str(clean)

        site = venv.site_packages
        script = (site / "../../../bin/tool").resolve()
        rewrite(site, "gamma-1.0.dist-info", "../../../bin/tool",
                script.read_bytes() + b"import os  # injected\n")
        tampered_run = peep_verify(venv, *deep, cwd=tmp_path)
        assert tampered_run.returncode == 1, str(tampered_run)
        assert {str(script)} == {p["path"] for p in kinds(tampered_run)["archive-mismatch"]}
    finally:
        installed_outside += list(venv.path.glob("include/site/python*/gamma/h.h"))
        for path in installed_outside:
            path.unlink(missing_ok=True)


@pytest.mark.core  # verify --deep's proofs: pip's finder and session
def test_deep_names_a_distribution_whose_archive_is_unreachable(
        venv, index, tmp_path, wheelhouse, pip_version, hook_wheel):
    alpha, beta, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    archives, tooling = deep_files(tmp_path, wheelhouse, pip_version, hook_wheel, alpha)

    result = peep_verify(venv, "--deep", "--archives", archives, "-r", tooling, "-r", req,
                         "--json", cwd=tmp_path)

    assert result.returncode == 1, str(result)
    [problem] = kinds(result)["no-archive"]
    assert problem["distribution"] == "beta" and "archive unreachable" in problem["message"]
    assert set(kinds(result)) == {"no-archive"}
    dists = {d["name"]: d for d in json.loads(result.stdout)["distributions"]}
    assert (dists["beta"]["basis"], dists["alpha"]["basis"]) == ("record", "archive")
    assert "archive unreachable" in dists["beta"]["basis_reason"]


def test_deep_checks_a_distribution_built_from_its_sdist_against_the_wheel_kept_at_install(
        venv, index, tmp_path, wheelhouse, pip_version, hook_wheel):
    source = sdist("alpha", "1.0", marker_dir=tmp_path, payload="VALUE = 1", sources=True)
    index.publish(source)
    req = tmp_path / "requirements.txt"
    req.write_text(source.peep_block())
    built = tmp_path / "built-wheels"
    install(venv, index, req, PEEP_HOOK_BUILT_WHEELS=str(built))
    archives, tooling = deep_files(tmp_path, wheelhouse, pip_version, hook_wheel, source)
    deep = ("--deep", "--archives", archives, "-r", tooling, "--json", "--built-wheels", built)

    result = peep_verify(venv, *deep, cwd=tmp_path)
    assert result.returncode == 0, str(result)
    [alpha] = [d for d in json.loads(result.stdout)["distributions"] if d["name"] == "alpha"]
    kept = built / source.sha256 / "alpha-1.0-py3-none-any.whl"
    assert alpha["basis"] == "built-wheel"
    assert f"the verified sdist {archives / source.filename}" in alpha["basis_reason"]
    assert str(kept) in alpha["basis_reason"] and "does not rebuild" in alpha["basis_reason"]
    assert "1 of its 1 modules also compared with the sdist" in alpha["basis_reason"]
    # The same with the sdist as pip gets it (downloaded to be read, never built).
    via_pip = peep_verify(venv, "--deep", "-r", tooling, "--json", "--built-wheels", built,
                          cwd=tmp_path,
                          **pip_config(tmp_path, index.url, archives))
    assert via_pip.returncode == 0, str(via_pip)
    assert {d["name"]: d["basis"] for d in json.loads(via_pip.stdout)["distributions"]
            }["alpha"] == "built-wheel"

    # Without the kept wheel: named, non-zero.
    elsewhere = peep_verify(venv, *deep[:-1], tmp_path / "archives", cwd=tmp_path)
    assert elsewhere.returncode == 1, str(elsewhere)
    [problem] = kinds(elsewhere)["no-archive"]
    assert problem["distribution"] == "alpha" and "no wheel built from it" in problem["message"]

    site = venv.site_packages
    rewrite(site, "alpha-1.0.dist-info", "alpha/__init__.py",
            (site / "alpha" / "__init__.py").read_bytes() + b"import os  # injected\n")
    py_compile.compile(str(site / "alpha" / "__init__.py"), cfile=str(site / "alpha" / CACHED),
                       doraise=True)
    assert peep_verify(venv, "-r", req, cwd=tmp_path).returncode == 0  # plain: fooled
    tampered_run = peep_verify(venv, *deep, cwd=tmp_path)
    assert tampered_run.returncode == 1, str(tampered_run)
    assert str(site / "alpha" / "__init__.py") in {
        p["path"] for p in kinds(tampered_run)["archive-mismatch"]}

    # The kept wheel altered to match: the sdist's own copy of the module still differs.
    with zipfile.ZipFile(kept) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["alpha/__init__.py"] = (site / "alpha" / "__init__.py").read_bytes()
    with zipfile.ZipFile(kept, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    both = peep_verify(venv, *deep, cwd=tmp_path)
    assert both.returncode == 1, str(both)
    [problem] = kinds(both)["archive-mismatch"]
    assert "differs from alpha/__init__.py in the verified sdist" in problem["message"]


def pip_config(tmp_path: Path, index_url: str, find_links: Path,
               cache: str = "cache", retries: str = "") -> dict[str, str]:
    """pip's configuration naming the index (and find-links for pip, wrapt and
    peep-hook), with a cache of its own: the only way verify learns of them.
    127.0.0.1 is a trusted host: pip caches only from those and from HTTPS."""
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {index_url}\nfind-links = {find_links}\n"
                      "trusted-host = 127.0.0.1\n" + (f"retries = {retries}\n" if retries else ""))
    return {"PIP_CONFIG_FILE": str(config), "PIP_CACHE_DIR": str(tmp_path / cache)}


@pytest.mark.core  # verify --deep's proofs: pip's finder and session
def test_deep_gets_the_archives_from_pip_s_configured_index(
        venv, index, tmp_path, wheelhouse, pip_version, hook_wheel):
    alpha, beta, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    tooling_dir, tooling = deep_files(tmp_path, wheelhouse, pip_version, hook_wheel)
    env = pip_config(tmp_path, index.url, tooling_dir)
    deep = ("--deep", "-r", req, "-r", tooling, "--json")

    clean = peep_verify(venv, *deep, cwd=tmp_path, **env)
    assert clean.returncode == 0, str(clean)
    report = json.loads(clean.stdout)
    assert {d["name"]: d["basis"] for d in report["distributions"]} == {
        "alpha": "archive", "beta": "archive", "pip": "archive", "wrapt": "archive",
        "peep_hook": "archive"}
    assert index.url in report["archives"]
    assert any(p.endswith(alpha.filename) for p in index.requested)

    site = venv.site_packages
    rewrite(site, "alpha-1.0.dist-info", "alpha/__init__.py",
            (site / "alpha" / "__init__.py").read_bytes() + b"import os  # injected\n")
    assert peep_verify(venv, "-r", req, cwd=tmp_path).returncode == 0  # plain: fooled
    tampered = peep_verify(venv, *deep, cwd=tmp_path, **env)
    assert tampered.returncode == 1, str(tampered)
    assert [p["path"] for p in kinds(tampered)["archive-mismatch"]] == [
        str(site / "alpha" / "__init__.py")]


def test_deep_takes_an_archive_pip_cached_without_downloading_it_again(
        venv, tmp_path, wheelhouse, pip_version, hook_wheel):
    index = Index(tmp_path / "index", cacheable_files=True)  # as PyPI serves archives
    try:
        alpha, beta, req = two_wheels(index, tmp_path)
        install(venv, index, req)
        tooling_dir, tooling = deep_files(tmp_path, wheelhouse, pip_version, hook_wheel)
        deep = ("--deep", "-r", req, "-r", tooling, "--json")
        env = pip_config(tmp_path, index.url, tooling_dir)
        first = peep_verify(venv, *deep, cwd=tmp_path, **env)  # fills the cache
        for archive in (alpha, beta):
            (index.files / archive.filename).unlink()  # still listed on the pages
        cached = peep_verify(venv, *deep, cwd=tmp_path, **env)
        cold = peep_verify(venv, *deep, cwd=tmp_path,
                           **pip_config(tmp_path, index.url, tooling_dir, cache="cold"))
    finally:
        index.close()

    assert first.returncode == 0, str(first)
    assert cold.returncode == 1, str(cold)
    assert sorted(p["distribution"] for p in kinds(cold)["no-archive"]) == ["alpha", "beta"]
    if pip_version.startswith("20."):
        # pip 20.3 caches a trusted host's responses over https only: its own
        # install would download again here, and so does verify.
        assert cached.returncode == 1, str(cached)
    else:
        assert cached.returncode == 0, str(cached)


@pytest.mark.core  # verify --deep's proofs: pip's finder and session
def test_deep_names_a_distribution_the_configured_index_cannot_give(
        venv, index, tmp_path, wheelhouse, pip_version, hook_wheel):
    alpha, beta, req = two_wheels(index, tmp_path)
    install(venv, index, req)
    tooling_dir, tooling = deep_files(tmp_path, wheelhouse, pip_version, hook_wheel)
    deep = ("--deep", "-r", req, "-r", tooling, "--json")
    other = Index(tmp_path / "other")  # up, but serves only beta: no alpha
    try:
        other.publish(beta)
        lacking = peep_verify(venv, *deep, cwd=tmp_path,
                              **pip_config(tmp_path, other.url, tooling_dir))
    finally:
        other.close()
    index.close()  # down, and an empty cache; pip's retries would only take time
    down = peep_verify(venv, *deep, cwd=tmp_path, **pip_config(
        tmp_path, index.url, tooling_dir, cache="empty-cache", retries="0"))

    assert lacking.returncode == 1, str(lacking)
    [problem] = kinds(lacking)["no-archive"]
    assert problem["distribution"] == "alpha" and "archive unreachable" in problem["message"]
    assert down.returncode == 1, str(down)
    assert sorted(p["distribution"] for p in kinds(down)["no-archive"]) == ["alpha", "beta"]
    assert set(kinds(down)) == {"no-archive"}


# -- in-process, on a site-packages built by hand -----------------------------------


def unpack(archive: Archive, site: Path, *, record: bool = True) -> None:
    """Install a wheel as pip does, as far as verify can tell."""
    site.mkdir(parents=True, exist_ok=True)
    path = archive.write(site.parent / "wheels")
    with zipfile.ZipFile(path) as zf:
        zf.extractall(site)
    if record:
        install_record.write_record(archive.name, str(path), [str(site)], archive.sha256)


def check(tmp_path: Path, text: str | None, *extra: str) -> dict:
    args = ["verify", "--json", "--path", str(tmp_path / "site"), *extra]
    if text is not None:
        req = tmp_path / "requirements.txt"
        req.write_text(text)
        args += ["-r", str(req)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    report = json.loads(out.getvalue())
    assert status == (0 if report["clean"] else 1)
    return report


def problem_kinds(report: dict) -> list[str]:
    return [p["kind"] for p in report["problems"]]


def test_url_requirement_without_a_name_is_matched_by_its_hash(tmp_path):
    alpha = wheel("alpha", "1.0")
    unpack(alpha, tmp_path / "site")
    url = f"https://example.com/{alpha.filename}"
    assert check(tmp_path, f"{url} --hash=sha256:{alpha.sha256}\n")["clean"]
    other = wheel("other", "1.0")
    report = check(tmp_path, f"{url} --hash=sha256:{other.sha256}\n")
    assert problem_kinds(report) == ["extra", "not-installed"]


def test_malformed_hash_in_the_files_is_a_problem(tmp_path):
    alpha = wheel("alpha", "1.0")
    unpack(alpha, tmp_path / "site")
    report = check(tmp_path, f"# sha256: not-a-hash\n{alpha.peep_block()}")
    assert problem_kinds(report) == ["requirements-file"]
    assert "malformed hash" in report["problems"][0]["message"]


def test_a_record_row_without_hash_cannot_be_checked(tmp_path):
    alpha = wheel("alpha", "1.0")
    site = tmp_path / "site"
    unpack(alpha, site)
    record = site / "alpha-1.0.dist-info" / "RECORD"
    rows = record.read_text().splitlines()
    rows = [",,".join([r.split(",")[0], ""]) if r.startswith("alpha/") else r for r in rows]
    # ... and bytecode, which pip lists without hash, is not a problem
    record.write_text("\n".join(rows + ["alpha/__pycache__/__init__.cpython-311.pyc,,"]) + "\n")
    report = check(tmp_path, alpha.peep_block())
    assert problem_kinds(report) == ["unhashed"]


def test_record_paths_with_commas_are_read_as_csv(tmp_path):
    site = tmp_path / "site"
    alpha = wheel("alpha", "1.0")
    unpack(alpha, site)
    data = b"a, b\n"
    (site / "alpha" / "a,b.txt").write_bytes(data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    with open(site / "alpha-1.0.dist-info" / "RECORD", "a") as f:
        f.write(f'"alpha/a,b.txt",sha256={digest},{len(data)}\n')
    assert check(tmp_path, alpha.peep_block())["clean"]
    (site / "alpha" / "a,b.txt").write_bytes(b"a, c\n")
    assert problem_kinds(check(tmp_path, alpha.peep_block())) == ["modified"]


def test_empty_leftover_directories_are_not_unowned(tmp_path):
    site = tmp_path / "site"
    unpack(wheel("alpha", "1.0"), site)
    (site / "gone" / "__pycache__").mkdir(parents=True)
    (site / "gone" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    assert check(tmp_path, None)["clean"]
    (site / "gone" / "mod.py").write_text("")
    report = check(tmp_path, None)
    assert problem_kinds(report) == ["unowned"] and report["problems"][0]["path"].endswith(
        "gone/")


def test_path_that_is_not_a_directory_is_a_usage_error(tmp_path, capsys):
    assert main(["verify", "--path", str(tmp_path / "nothing")]) == 2
    assert "not a directory" in capsys.readouterr().err



def test_a_pyc_python_cached_itself_is_judged_by_its_code(tmp_path):
    site = tmp_path / "site"
    alpha = wheel("alpha", "1.0")
    unpack(alpha, site)  # as pip --no-compile: no .pyc in RECORD
    source, cached = site / "alpha" / "__init__.py", site / "alpha" / CACHED
    py_compile.compile(str(source), cfile=str(cached), doraise=True)  # as an import caches it
    assert check(tmp_path, alpha.peep_block())["clean"]

    cached.write_bytes(pyc("import os\n", cached.read_bytes()[:16]))
    report = check(tmp_path, alpha.peep_block())
    assert problem_kinds(report) == ["modified"] and report["problems"][0]["path"] == str(cached)


def test_pyc_files_without_source_or_of_another_python_are_not_taken_on_trust(tmp_path):
    site = tmp_path / "site"
    alpha = wheel("alpha", "1.0", files={"alpha/sourceless.pyc": pyc("X = 1\n")})
    unpack(alpha, site)
    (site / "dropped.pyc").write_bytes(pyc("import os\n"))  # importable: no source beside it
    other = site / "alpha" / "__pycache__" / "__init__.cpython-20.pyc"
    other.parent.mkdir()
    other.write_bytes(b"compiled by another Python")
    with open(site / "alpha-1.0.dist-info" / "RECORD", "a") as f:
        f.write("alpha/__pycache__/__init__.cpython-20.pyc,,\n")

    report = check(tmp_path, alpha.peep_block())

    assert problem_kinds(report) == ["bytecode-unchecked", "unowned"]
    assert report["problems"][1]["path"] == str(site / "dropped.pyc")
    assert "alpha 1.0: 1 .pyc file without source (sourceless): checked against RECORD " \
        "only" in report["notes"]
    (site / "alpha" / "sourceless.pyc").write_bytes(pyc("X = 2\n"))
    assert "modified" in problem_kinds(check(tmp_path, alpha.peep_block()))


def test_deep_console_scripts_are_pips_templates_and_nothing_else():
    from peep_hook.commands.verify_deep import _script_body_ok

    pip_20 = (b"# -*- coding: utf-8 -*-\nimport re\nimport sys\n\nfrom m import f\n\n"
              b"if __name__ == '__main__':\n"
              b"    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
              b"    sys.exit(f())\n")
    pip_26 = (b"import sys\nfrom m import f\nif __name__ == '__main__':\n"
              b"    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n    sys.exit(f())\n")
    assert _script_body_ok(pip_20, "m", "f") and _script_body_ok(pip_26, "m", "f")
    assert not _script_body_ok(pip_26, "m", "g")
    assert not _script_body_ok(b"import os\n" + pip_26, "m", "f")
    assert not _script_body_ok(pip_26.replace(b"    sys.exit", b"    os.system('x')\n    sys.exit"),
                               "m", "f")


def test_deep_names_what_it_cannot_check_against_an_archive(tmp_path):
    site = tmp_path / "site"
    unpack(wheel("alpha", "1.0"), site)  # as built from the sdist below
    unpack(wheel("beta", "2.0"), site)
    source = sdist("alpha", "1.0", marker_dir=tmp_path)
    source.write(tmp_path / "archives")

    report = check(tmp_path, source.peep_block() + "beta==2.0\n", "--deep", "--archives",
                   str(tmp_path / "archives"))

    reasons = {d["name"]: (d["basis"], d["basis_reason"]) for d in report["distributions"]}
    assert reasons["alpha"][0] == reasons["beta"][0] == "record"
    assert "built from an sdist" in reasons["alpha"][1]
    assert reasons["beta"][1] == "the files give no sha256 for it"
    assert sorted(p["distribution"] for p in report["problems"]
                  if p["kind"] == "no-archive") == ["alpha", "beta"]
def test_verify_imports_pip_only_to_fetch_archives_for_deep(tmp_path):
    # verify is a command without pip; only --deep without --archives asks pip.
    alpha = wheel("alpha", "1.0")
    unpack(alpha, tmp_path / "site")
    req = tmp_path / "requirements.txt"
    req.write_text(alpha.peep_block())
    code = ("import contextlib, io, sys\n"
            "from peep_hook.commands.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main(['verify', '--path', {str(tmp_path / 'site')!r}])\n"
            f"    main(['verify', '--deep', '--archives', {str(tmp_path)!r}, '--path', "
            f"{str(tmp_path / 'site')!r}, '-r', {str(req)!r}])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pip', 'wrapt'}))\n")
    result = run([sys.executable, "-c", code], cwd=tmp_path,
                 env={"PYTHONPATH": str(Path(install_record.__file__).parents[2])})
    assert result.stdout.strip() == "[]", str(result)


def test_two_files_that_pin_different_versions_of_one_project_are_reported(tmp_path):
    old, new = wheel("click", "8.0"), wheel("click", "8.1")
    unpack(new, tmp_path / "site")
    a = tmp_path / "a.txt"
    a.write_text(old.peep_block())
    same = tmp_path / "same.txt"
    same.write_text(new.peep_block().replace("==8.1", "==8.1.0"))
    assert check(tmp_path, new.peep_block(), "-r", str(same))["clean"]
    report = check(tmp_path, new.peep_block(), "-r", str(a))
    assert problem_kinds(report)[0] == "pin-conflict"
    message = report["problems"][0]["message"]
    assert "a.txt:2 pins 8.0" in message and "requirements.txt:2 pins 8.1" in message


def test_deep_compiles_in_a_pool_with_the_serial_loop_s_results(monkeypatch):
    from peep_hook.core import bytecode

    good = [bytecode.Job(pyc(f"X = {i}\n"), f"X = {i}\n".encode(), "somewhere.py", 0)
            for i in range(6)]
    bad = [bytecode.Job(pyc("import os\n"), b"X = 1\n", "somewhere.py", 0),
           bytecode.Job(b"junk", b"X = 1\n", "somewhere.py", 0),
           bytecode.Job(pyc("X = 1\n"), b"def (\n", "somewhere.py", 0)]
    jobs = good[:3] + bad + good[3:]
    serial = bytecode.mismatches(jobs)
    monkeypatch.setattr(bytecode, "_POOL_MIN", 1)
    monkeypatch.setattr(bytecode, "_BATCH", 2)
    monkeypatch.setattr(bytecode.os, "cpu_count", lambda: 2)  # a pool even on one CPU
    started = []
    monkeypatch.setattr(bytecode, "ProcessPoolExecutor",
                        lambda n: started.append(n) or ProcessPoolExecutor(n))

    assert bytecode.mismatches(jobs, pool=True) == serial
    assert started == [2]
    assert serial[:3] == serial[6:] == [None] * 3 and None not in serial[3:6]
