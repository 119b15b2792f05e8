"""Everyday workflows (issue 23): blocks, refusals and installed dependencies
as a team adopting peep-hook meets them."""

from __future__ import annotations

import pytest

from tests._support.archives import wheel
from tests._support.index import Index
from tests._support.outcomes import refused, write
from tests._support.pips import RESOLVERS
from tests._support.venvs import Venv

# CI runs these on every pip and Python it tests (scripts/test.sh).
pytestmark = pytest.mark.core


def test_block_for_a_wildcard_dependency_pins_the_version_pip_chose(
        venv: Venv, index: Index, tmp_path):
    app = wheel("app", "1.0", requires=["dep==1.*"])
    dep = wheel("dep", "1.0.9")
    index.publish(app, dep)
    req = write(tmp_path / "req.txt", app.peep_block())
    result = venv.pip("install", "-r", req, "-i", index.url)
    assert refused(result), str(result)
    assert f"# sha256: {dep.peep}\ndep==1.0.9\n" in result.output, str(result)
    assert "dep==1.* --hash" not in result.output and "\ndep==1.*\n" not in result.output


def test_warn_policy_gives_one_report_at_the_end(venv: Venv, index: Index, tmp_path):
    archives = [wheel(name, "1.0") for name in ("alpha", "beta", "gamma")]
    index.publish(*archives)
    req = write(tmp_path / "req.txt", "".join(f"{a.pin}\n" for a in archives))
    result = venv.pip("install", "-r", req, "-i", index.url, env={"PEEP_HOOK": "warn"})
    assert result.returncode == 0, str(result)
    assert result.stderr.count("strict would") == 1, str(result)
    assert "3 archives that pip needs have no hash" in result.stderr, str(result)
    report = result.stderr[result.stderr.index("strict would"):]
    assert all(f"# sha256: {a.peep}\n{a.pin}" in report for a in archives), str(result)


@pytest.mark.parametrize("command", ["download", "wheel"])
def test_refusal_of_a_command_that_installs_nothing_says_nothing_was_saved(
        venv: Venv, index: Index, tmp_path, command):
    alpha = wheel("alpha", "1.0")
    index.publish(alpha)
    req = write(tmp_path / "req.txt", f"{alpha.pin}\n")
    out = tmp_path / "out"
    result = venv.pip(command, "-r", req, "-i", index.url, "-d" if command == "download"
                      else "-w", out)
    assert refused(result), str(result)
    assert "Nothing was saved." in result.stderr and "installed" not in result.stderr
    assert not out.exists() or not list(out.iterdir())


# -- installed dependencies that no file names ------------------------------------------


@RESOLVERS
def test_dependency_installed_before_the_hook_gets_the_block_of_its_installed_version(
        venv: Venv, index: Index, tmp_path, resolver):
    app = wheel("app", "1.0", requires=["dep"])
    old, new = wheel("dep", "1.0"), wheel("dep", "2.0")
    index.publish(app, old, new)
    before = venv.pip("install", old.pin, "-i", index.url, env={"PEEP_HOOK": "off"})
    assert before.returncode == 0, str(before)
    req = write(tmp_path / "req.txt", app.peep_block())

    result = venv.pip("install", *resolver, "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert f"# sha256: {old.peep}\ndep==1.0\n    # via app==1.0" in result.output, str(result)
    assert "dep==2.0" not in result.output
    # Pasted (here into a constraints file): that version, verified and recorded.
    constraints = write(tmp_path / "constraints.txt", old.peep_block())
    again = venv.pip("install", *resolver, "-r", req, "-c", constraints, "-i", index.url)
    assert again.returncode == 0, str(again)
    assert list(venv.site_packages.glob("dep-1.0.dist-info/PEEP_HOOK.json")), str(again)


@RESOLVERS
def test_dependency_installed_verified_through_another_file_is_kept_as_it_is(
        venv: Venv, index: Index, tmp_path, resolver):
    app = wheel("app", "1.0", requires=["dep"])
    old, new = wheel("dep", "1.0"), wheel("dep", "2.0")
    index.publish(app, old, new)
    first = venv.pip("install", "-r", write(tmp_path / "a.txt", old.peep_block()),
                     "-i", index.url)
    assert first.returncode == 0, str(first)

    result = venv.pip("install", *resolver, "-r", write(tmp_path / "b.txt", app.peep_block()),
                      "-i", index.url)

    assert result.returncode == 0, str(result)
    assert [p.name for p in venv.site_packages.glob("dep-*.dist-info")] == ["dep-1.0.dist-info"]
