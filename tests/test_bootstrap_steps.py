"""Bootstrap steps that deploy scripts run before ``pip install -r``.

With hashed pins for pip, setuptools and wheel in a constraints file named in
pip's own configuration (``[global] constraint = ...``; here given to pip
through PIP_CONFIG_FILE, never this machine's), these work unchanged under the
hook: ``pip install -U pip setuptools wheel``, ``python -m venv
--upgrade-deps``, ``virtualenv --download``. Without such pins each is refused
with the blocks to paste. ``virtualenv --seeder pip`` runs pip on virtualenv's
embedded wheels: they are trusted in that run only (by their content, as
virtualenv's RECORD lists it), never when an index or a find-links directory
serves a copy.

The index serves the pip under test (from the wheelhouse) and stand-in
``setuptools`` and ``wheel`` wheels built here: nothing is downloaded.
virtualenv (a test dependency) runs from this test environment's copy,
importable by another interpreter through PYTHONPATH alone.

``python -m venv --upgrade-deps`` and ``virtualenv --seeder pip`` run pip in
the new environment, which only the global hook reaches (a per-environment
hook is not installed there), so they are exercised on a private copy of the
base interpreter with ``enable --global``, as in tests/test_global.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from tests._support.archives import Archive, wheel
from tests._support.index import Index, canonical
from tests._support.interpreters import VERSION, globally_hooked_interpreter
from tests._support.shared import once_per_run
from tests._support.venvs import Result, Venv, run

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
# virtualenv seeds setuptools only into environments of Python 3.11 and older.
SEEDS_SETUPTOOLS = sys.version_info < (3, 12)

# How virtualenv runs pip from its own wheel (virtualenv.seed.wheels.acquire.PIP_RUN).
PIP_RUN = ("import os, sys; sys.path = [os.environ['VIRTUALENV_PIP_WHEEL'], "
           "*(p for p in sys.path if p)]; import runpy; "
           "runpy.run_module('pip', run_name='__main__', alter_sys=True)")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _records(site_packages: Path) -> Dict[str, str]:
    """project -> the sha256 peep-hook recorded for it."""
    found = {}
    for record in site_packages.glob("*.dist-info/PEEP_HOOK.json"):
        found[canonical(record.parent.name.split("-")[0])] = json.loads(
            record.read_text())["sha256"]
    return found


def _versions(site_packages: Path) -> Dict[str, str]:
    return {canonical(d.name.split("-")[0]): d.name[:-len(".dist-info")].split("-")[1]
            for d in site_packages.glob("*.dist-info")}


def _site_packages(env: Path) -> Path:
    return env / "lib" / f"python{VERSION}" / "site-packages"


def _virtualenv_path(dest: Path) -> Path:
    """virtualenv and its dependencies, from this test environment, importable
    through PYTHONPATH alone: another interpreter runs this virtualenv so."""
    from importlib import metadata

    from packaging.requirements import Requirement

    dest.mkdir()
    seen, todo = set(), ["virtualenv"]
    while todo:
        dist = metadata.distribution(todo.pop())
        if canonical(dist.metadata["Name"]) in seen:
            continue
        seen.add(canonical(dist.metadata["Name"]))
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
        for top in {file.parts[0] for file in dist.files or []}:
            if top != ".." and not (dest / top).exists():
                os.symlink(dist.locate_file(top), dest / top)
    return dest


def _embedded(distribution: str) -> Path:
    """The wheel of ``distribution`` virtualenv seeds for this Python."""
    from virtualenv.seed.wheels.embed import get_embed_wheel

    found = get_embed_wheel(distribution, PY)
    assert found is not None, f"virtualenv embeds no {distribution} for Python {PY}"
    return Path(found.path)


# -- the archives, the pins and pip's configuration ----------------------------------


class Bootstrap:
    """The index with pip, setuptools and wheel, and two pip configurations:
    ``pinned`` names a constraints file with their hashes, ``bare`` names none."""

    def __init__(self, root: Path, index: Index, wheelhouse: Path, pip_version: str) -> None:
        pip_wheel = next(wheelhouse.glob(f"pip-{pip_version}-*.whl"))
        self.pip = Archive("pip", pip_version, pip_wheel.name, pip_wheel.read_bytes())
        self.setuptools = wheel("setuptools", "99.0")
        self.wheel = wheel("wheel", "9.0")
        self.archives = (self.pip, self.setuptools, self.wheel)
        index.publish(*self.archives)
        constraints = root / "constraints.txt"
        constraints.write_text("# The administrator's pins for bootstrap steps.\n"
                               + "".join(a.peep_block() for a in self.archives))
        self.pinned = root / "pip-pinned.conf"
        self.pinned.write_text(f"[global]\nconstraint = {constraints}\n")
        self.bare = root / "pip-bare.conf"
        self.bare.write_text("[global]\n")
        self.index = index
        self.app_data = root / "virtualenv-app-data"

    def env(self, config: Path, **extra: str) -> Dict[str, str]:
        # The index in PIP_INDEX_URL, where virtualenv --download sees it (it
        # then checks nothing against PyPI, which a test must never reach).
        return dict(extra, PIP_CONFIG_FILE=str(config), PIP_INDEX_URL=self.index.url,
                    VIRTUALENV_OVERRIDE_APP_DATA=str(self.app_data))

    def hashes(self) -> Dict[str, str]:
        return {a.name: a.sha256 for a in self.archives}


def _refused_with_blocks(result: Result, *archives: Archive) -> None:
    assert result.returncode == 1, str(result)
    assert "Traceback" not in result.output, str(result)
    for archive in archives:
        assert f"# sha256: {archive.peep}\n{archive.pin}" in result.output, str(result)


# -- the per-environment hook ---------------------------------------------------------


@pytest.fixture
def bootstrap(tmp_path, index, wheelhouse, pip_version) -> Bootstrap:
    return Bootstrap(tmp_path, index, wheelhouse, pip_version)


def test_pip_install_upgrade_pip_setuptools_wheel_works_with_hashed_pins_in_pip_conf(
        make_venv, bootstrap):
    venv = make_venv()  # its pip was installed before the hook: no record yet

    upgraded = venv.pip("install", "-U", "pip", "setuptools", "wheel",
                        env=bootstrap.env(bootstrap.pinned))

    assert upgraded.returncode == 0, str(upgraded)
    records = _records(venv.site_packages)
    assert {name: records.get(name) for name in bootstrap.hashes()} == bootstrap.hashes(), (
        str(upgraded))
    again = venv.pip("install", "-U", "pip", "setuptools", "wheel",
                     env=bootstrap.env(bootstrap.pinned))
    assert again.returncode == 0, str(again)


def test_pip_install_upgrade_pip_setuptools_wheel_without_pins_is_refused_with_every_block(
        make_venv, bootstrap):
    venv = make_venv()
    before = _versions(venv.site_packages)

    refused = venv.pip("install", "-U", "pip", "setuptools", "wheel",
                       env=bootstrap.env(bootstrap.bare))

    _refused_with_blocks(refused, *bootstrap.archives)
    # ... and the fix that keeps the step unchanged.
    assert "[global] constraint = /etc/pip/bootstrap-constraints.txt" in refused.output
    assert '"Bootstrap steps" in peep-hook\'s README' in refused.output
    assert _versions(venv.site_packages) == before  # nothing installed
    assert _records(venv.site_packages) == {}


@pytest.fixture(scope="session")
def virtualenv_path(tmp_path_factory) -> Path:
    return _virtualenv_path(tmp_path_factory.mktemp("virtualenv") / "path")


def test_virtualenv_download_works_with_hashed_pins_in_pip_conf(
        make_venv, bootstrap, virtualenv_path, tmp_path):
    venv = make_venv()  # virtualenv runs here, so its pip download does too
    new = tmp_path / "new"

    made = venv.python_run("-m", "virtualenv", "--no-periodic-update", "--download", new,
                           env=bootstrap.env(bootstrap.pinned, PYTHONPATH=str(virtualenv_path)))

    assert made.returncode == 0, str(made)
    seeded = _versions(_site_packages(new))
    assert seeded["pip"] == bootstrap.pip.version, seeded  # the pinned ones, from the index
    assert seeded.get("setuptools") == ("99.0" if SEEDS_SETUPTOOLS else None), seeded


def test_virtualenv_download_without_pins_is_refused_with_the_blocks(
        make_venv, bootstrap, virtualenv_path, tmp_path):
    venv = make_venv()
    new = tmp_path / "new"

    made = venv.python_run("-m", "virtualenv", "--no-periodic-update", "--download", new,
                           env=bootstrap.env(bootstrap.bare, PYTHONPATH=str(virtualenv_path)))

    assert made.returncode != 0, str(made)
    # virtualenv shows what its pip download printed: the block of each wheel.
    for archive in (bootstrap.pip, bootstrap.setuptools)[:2 if SEEDS_SETUPTOOLS else 1]:
        assert f"# sha256: {archive.peep}\n{archive.pin}" in made.output, str(made)
    assert not (_site_packages(new) / "pip").exists()


# -- virtualenv's embedded wheels: trusted in its seeding run only --------------------


def _run_virtualenvs_pip(venv: Venv, *args: str | os.PathLike, **env: str) -> Result:
    """pip as virtualenv runs it: from its embedded pip wheel, in ``venv``'s Python."""
    return venv.python_run("-c", PIP_RUN, *args,
                           env=dict(env, VIRTUALENV_PIP_WHEEL=str(_embedded("pip"))))


def test_pip_run_from_virtualenvs_own_wheel_with_no_index_trusts_its_embedded_wheels(
        venv, tmp_path):
    """The shape of virtualenv's seeding run (the positive control of the tests below)."""
    embedded = _embedded("pip")
    links = tmp_path / "virtualenv-seed"
    links.mkdir()
    (links / embedded.name).write_bytes(embedded.read_bytes())  # copied, as virtualenv does
    out = tmp_path / "out"

    seeded = _run_virtualenvs_pip(venv, "download", "--no-index", "--find-links", links,
                                  "--no-deps", "-d", out, f"pip=={embedded.name.split('-')[1]}")

    assert seeded.returncode == 0, str(seeded)
    assert [_sha256(p) for p in out.iterdir()] == [_sha256(embedded)]


def test_a_served_copy_of_virtualenvs_embedded_wheel_is_not_trusted_in_an_ordinary_pip_download(
        venv, index, tmp_path, virtualenv_path):
    embedded = _embedded("pip")
    version = embedded.name.split("-")[1]
    copy = Archive("pip", version, embedded.name, embedded.read_bytes())
    index.publish(copy)
    # virtualenv importable in this pip's process, as where virtualenv is installed.
    env = {"PYTHONPATH": str(virtualenv_path)}

    from_index = venv.pip("download", "--no-deps", "-d", tmp_path / "a", "-i", index.url,
                          f"pip=={version}", env=env)
    from_links = venv.pip("download", "--no-deps", "-d", tmp_path / "b", "--no-index",
                          "--find-links", index.files, f"pip=={version}", env=env)

    for result in (from_index, from_links):
        assert result.returncode == 1, str(result)
        assert f"# sha256: {copy.peep}" in result.output, str(result)  # missing, not trusted
    assert not list((tmp_path / "a").glob("*.whl")) and not list((tmp_path / "b").glob("*.whl"))


def test_pip_run_from_virtualenvs_own_wheel_trusts_nothing_when_it_reads_an_index(
        venv, index, tmp_path):
    embedded = _embedded("pip")
    version = embedded.name.split("-")[1]
    copy = Archive("pip", version, embedded.name, embedded.read_bytes())
    index.publish(copy)

    result = _run_virtualenvs_pip(venv, "download", "--no-deps", "-d", tmp_path / "out",
                                  "-i", index.url, f"pip=={version}")

    assert result.returncode == 1, str(result)
    assert f"# sha256: {copy.peep}" in result.output, str(result)


def test_in_virtualenvs_seeding_run_only_byte_identical_copies_of_its_wheels_are_trusted(
        venv, tmp_path):
    embedded = _embedded("pip")
    version = embedded.name.split("-")[1]
    forged = wheel("pip", version, payload="FORGED = True")  # same name and version
    links = tmp_path / "virtualenv-seed"
    forged.write(links)

    result = _run_virtualenvs_pip(venv, "download", "--no-index", "--find-links", links,
                                  "--no-deps", "-d", tmp_path / "out", f"pip=={version}")

    assert result.returncode == 1, str(result)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# -- the global hook: every environment made from a hooked interpreter ---------------


def _result(result: Result) -> Dict[str, Any]:
    return {"returncode": result.returncode, "output": result.output, "text": str(result)}


def _global_scenario(tmp: Path, wheelhouse: Path, hook_wheel: Path,
                     pip_version: str) -> Dict[str, Any]:
    facts: Dict[str, Any] = {}
    python = globally_hooked_interpreter(tmp, wheelhouse, hook_wheel, pip_version)
    index = Index(tmp / "index")
    try:
        bootstrap = Bootstrap(tmp, index, wheelhouse, pip_version)
        facts["hashes"] = bootstrap.hashes()
        facts["peep"] = {a.name: a.peep_block() for a in bootstrap.archives}
        pinned, bare = bootstrap.env(bootstrap.pinned), bootstrap.env(bootstrap.bare)

        upgraded = tmp / "venv-upgraded"
        if sys.version_info >= (3, 9):
            facts["venv_upgrade_deps"] = _result(
                run([python, "-m", "venv", "--upgrade-deps", upgraded], env=pinned))
            facts["venv_upgrade_deps_records"] = _records(_site_packages(upgraded))
        else:  # no --upgrade-deps before 3.9: pip upgrades the venv as 3.8 makes it
            facts["venv_plain"] = _result(run([python, "-m", "venv", upgraded], env=pinned))
        facts["pip_upgrade"] = _result(
            run([upgraded / "bin" / "pip", "install", "-U", "pip", "setuptools", "wheel"],
                env=pinned))
        facts["pip_upgrade_records"] = _records(_site_packages(upgraded))
        if sys.version_info >= (3, 9):
            unpinned = tmp / "venv-unpinned"
            facts["venv_upgrade_deps_unpinned"] = _result(
                run([python, "-m", "venv", "--upgrade-deps", unpinned], env=bare))
            facts["venv_upgrade_deps_unpinned_versions"] = _versions(_site_packages(unpinned))

        downloaded = tmp / "virtualenv-download"
        facts["virtualenv_download"] = _result(run(
            [python, "-m", "virtualenv", "--no-periodic-update", "--download", downloaded],
            env=dict(pinned, PYTHONPATH=str(_virtualenv_path(tmp / "virtualenv-path")))))
        facts["virtualenv_download_versions"] = _versions(_site_packages(downloaded))

        seeded = tmp / "virtualenv-seeder-pip"
        facts["virtualenv_seeder_pip"] = _result(run(
            [sys.executable, "-m", "virtualenv", "--no-periodic-update", "--seeder", "pip",
             "-p", python, seeded], env=bare))
        facts["virtualenv_seeder_pip_records"] = _records(_site_packages(seeded))
        facts["embedded"] = {name: _sha256(_embedded(name)) for name in ("pip", "setuptools")}
    finally:
        index.close()
    return facts


@pytest.fixture(scope="session")
def scenario(request, tmp_path_factory, wheelhouse, pip_version) -> Dict[str, Any]:
    """The scenario, run once per test run."""
    def fresh() -> Dict[str, Any]:
        return _global_scenario(tmp_path_factory.mktemp("bootstrap-global"), wheelhouse,
                                request.getfixturevalue("hook_wheel"), pip_version)
    return once_per_run(tmp_path_factory, "bootstrap-scenario", fresh)


# python -m venv --upgrade-deps is new in Python 3.9: these two tests exist
# from 3.9 on (the pip upgrade below runs on every Python).
if sys.version_info >= (3, 9):
    def test_venv_upgrade_deps_works_under_the_global_hook_with_hashed_pins_in_pip_conf(scenario):
        made = scenario["venv_upgrade_deps"]
        assert made["returncode"] == 0, made["text"]
        records = scenario["venv_upgrade_deps_records"]
        assert records["pip"] == scenario["hashes"]["pip"], records
        if sys.version_info < (3, 12):  # 3.12 dropped setuptools from venv's upgrade
            assert records["setuptools"] == scenario["hashes"]["setuptools"], records


    def test_venv_upgrade_deps_without_pins_is_refused_with_the_blocks(scenario):
        refused = scenario["venv_upgrade_deps_unpinned"]
        assert refused["returncode"] != 0, refused["text"]
        assert scenario["peep"]["pip"] in refused["output"], refused["text"]
        # ensurepip's pip and setuptools stay; nothing from the index was installed.
        assert scenario["venv_upgrade_deps_unpinned_versions"].get("setuptools") != "99.0"


def test_pip_install_upgrade_pip_setuptools_wheel_works_under_the_global_hook(scenario):
    upgraded = scenario["pip_upgrade"]
    assert upgraded["returncode"] == 0, upgraded["text"]
    assert scenario["pip_upgrade_records"] == scenario["hashes"], upgraded["text"]


def test_virtualenv_download_works_under_the_global_hook_with_hashed_pins(scenario):
    made = scenario["virtualenv_download"]
    assert made["returncode"] == 0, made["text"]
    assert scenario["virtualenv_download_versions"].get("setuptools") == (
        "99.0" if SEEDS_SETUPTOOLS else None)


def test_virtualenv_seeder_pip_works_under_the_global_hook_on_its_embedded_wheels(scenario):
    made = scenario["virtualenv_seeder_pip"]
    assert made["returncode"] == 0, made["text"]
    records = scenario["virtualenv_seeder_pip_records"]
    assert records["pip"] == scenario["embedded"]["pip"], records
