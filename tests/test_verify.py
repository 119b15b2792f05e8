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
import io
import json
import zipfile
from pathlib import Path

from peep_hook import installed
from peep_hook.cli import main
from tests._support.archives import Archive, tampered, wheel
from tests._support.venvs import Result, Venv, run


def peep_verify(venv: Venv, *args: str | Path, cwd: Path) -> Result:
    # The console script, from a directory without a peep_hook of its own:
    # the venv's installed copy runs, as on a deployed machine.
    return run([venv.bin / "peep-hook", "verify", *args], cwd=cwd)


def kinds(result: Result) -> dict[str, list[dict]]:
    report = json.loads(result.stdout)
    found: dict[str, list[dict]] = {}
    for problem in report["problems"]:
        found.setdefault(problem["kind"], []).append(problem)
    return found


def install(venv: Venv, index, req: Path, **env: str) -> None:
    result = venv.pip("install", "-r", req, "-i", index.url, env=env or None)
    assert result.returncode == 0, str(result)


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
                           "requirement_files", "allow_extra", "checked", "distributions",
                           "problems", "notes"}
    assert report["clean"] is True and report["problems"] == []
    assert report["site_packages"] == [str(venv.site_packages)]
    assert report["requirement_files"] == [str(req)]
    assert set(report["checked"]) == {"distributions", "files", "bytes", "seconds"}
    dists = {d["name"]: d for d in report["distributions"]}
    assert {"alpha", "beta", "pip", "wrapt"} <= set(dists)
    assert dists["alpha"]["record"] == alpha.sha256
    assert dists["alpha"]["named_by"] == [f"{req}:2"]
    assert dists["pip"]["record"] is None and dists["pip"]["extra"] is False
    assert set(dists["alpha"]) == {"name", "version", "location", "metadata", "record",
                                   "named_by", "extra", "files", "bytes"}
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


# -- in-process, on a site-packages built by hand -----------------------------------


def unpack(archive: Archive, site: Path, *, record: bool = True) -> None:
    """Install a wheel as pip does, as far as verify can tell."""
    site.mkdir(parents=True, exist_ok=True)
    path = archive.write(site.parent / "wheels")
    with zipfile.ZipFile(path) as zf:
        zf.extractall(site)
    if record:
        installed.write_record(archive.name, str(path), [str(site)], archive.sha256)


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
