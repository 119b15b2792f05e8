"""Arming: however pip's modules get loaded, and whoever drives them, the hook
is in place before anything is fetched, or pip refuses.

* pip run from its wheel (``python pip.whl/pip``, get-pip, ensurepip): on
  Python 3.8 and 3.9 zipimport loads with the legacy ``load_module`` only;
* pip imported before the hook's finder (an earlier ``.pth``, a sitecustomize);
* pip driven in-process: ``Command._main`` called directly, or pip's
  preparer used without any pip command (what pip-tools' pip-compile does).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests._support.archives import sdist, tampered, wheel
from tests._support.drivers import (
    COMPILE_MIMIC,
    MAIN_DRIVER,
    install_legacy_loader,
    write_script,
)
from tests._support.outcomes import refused
from tests._support.venvs import Venv, pip_wheel_in

# CI runs these on every pip and Python it tests (scripts/test.sh).
pytestmark = pytest.mark.core


def _requirements(tmp_path: Path, *archives) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("".join(a.peep_block() for a in archives))
    return path


# -- pip run from a zip ---------------------------------------------------------


def test_pip_run_from_its_wheel_refuses_a_tampered_archive(
        venv: Venv, index, tmp_path, wheelhouse, pip_version):
    good = wheel("alpha", "1.0")
    index.publish(tampered(good))
    req = _requirements(tmp_path, good)

    result = venv.python_run(pip_wheel_in(wheelhouse, pip_version) / "pip",
                             "install", "-r", req, "-i", index.url)

    assert refused(result), str(result)
    assert f"# sha256: {good.peep}" in result.stderr
    assert not venv.installed("alpha")


def test_pip_run_from_its_wheel_installs_a_good_archive(
        venv: Venv, index, tmp_path, wheelhouse, pip_version):
    good = wheel("alpha", "1.0")
    index.publish(good)
    req = _requirements(tmp_path, good)

    result = venv.python_run(pip_wheel_in(wheelhouse, pip_version) / "pip",
                             "install", "-r", req, "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha")


def test_pip_run_from_its_wheel_with_the_hook_half_installed_refuses(
        make_venv, index, tmp_path, wheelhouse, pip_version):
    venv = make_venv()
    shutil.rmtree(venv.site_packages / "peep_hook")  # the .pth stays behind
    good = wheel("alpha", "1.0")
    index.publish(good)

    result = venv.python_run(pip_wheel_in(wheelhouse, pip_version) / "pip",
                             "install", "-r", _requirements(tmp_path, good), "-i", index.url)

    assert result.returncode == 1, str(result)
    assert "half installed" in result.stderr
    assert not venv.installed("alpha")


@pytest.mark.parametrize("good_archive", [True, False], ids=["good", "tampered"])
def test_pip_loaded_by_a_legacy_load_module_loader_is_hooked(
        venv: Venv, index, tmp_path, good_archive):
    # What zipimport is on Python 3.8 and 3.9, on every Python.
    install_legacy_loader(venv.site_packages)
    good = wheel("alpha", "1.0")
    index.publish(good if good_archive else tampered(good))
    loaded_by = venv.python_run(
        "-c", "import pip._internal.cli.base_command as m; print(type(m.__loader__).__name__)")
    assert loaded_by.stdout.strip() == "LegacyLoader", str(loaded_by)

    result = venv.pip("install", "-r", _requirements(tmp_path, good), "-i", index.url)

    if good_archive:
        assert result.returncode == 0, str(result)
        assert venv.installed("alpha")
    else:
        assert refused(result), str(result)
        assert f"# sha256: {good.peep}" in result.stderr
        assert not venv.installed("alpha")


def test_pip_loaded_by_a_loader_the_hook_cannot_watch_refuses(venv: Venv, index, tmp_path):
    install_legacy_loader(venv.site_packages, slots=True)
    good = wheel("alpha", "1.0")
    index.publish(good)

    result = venv.pip("install", "-r", _requirements(tmp_path, good), "-i", index.url)

    assert refused(result), str(result)
    assert "peep-hook cannot watch pip load (LegacyLoader" in result.stderr
    assert not venv.installed("alpha")
    # Only fetching commands are refused: pip still runs, and repairs.
    assert venv.pip("--version").returncode == 0
    plain = venv.python_run("-c", "import pip; print('ok')")
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "ok\n", ""), str(plain)


# -- pip imported before the hook started ------------------------------------------


@pytest.mark.parametrize("modules", [
    "pip._internal.cli.base_command",
    "pip._internal.cli.base_command, pip._internal.operations.prepare",
])
def test_pip_imported_by_an_earlier_pth_file_is_still_hooked(
        venv: Venv, index, tmp_path, modules):
    (venv.site_packages / "aaa_imports_pip.pth").write_text(f"import {modules}\n")
    good = wheel("alpha", "1.0")
    index.publish(tampered(good))

    result = venv.pip("install", "-r", _requirements(tmp_path, good), "-i", index.url)

    assert refused(result), str(result)
    assert f"# sha256: {good.peep}" in result.stderr
    assert not venv.installed("alpha")


def test_pip_imported_by_a_sitecustomize_is_still_hooked(venv: Venv, index, tmp_path):
    (venv.site_packages / "sitecustomize.py").write_text(
        "import pip._internal.cli.base_command, pip._internal.operations.prepare\n")
    good = wheel("alpha", "1.0")
    index.publish(tampered(good))

    result = venv.pip("install", "-r", _requirements(tmp_path, good), "-i", index.url)

    assert refused(result), str(result)
    assert not venv.installed("alpha")


def test_pip_imported_early_still_loads_nothing_heavy_outside_fetching_commands(venv: Venv):
    (venv.site_packages / "aaa_imports_pip.pth").write_text(
        "import pip._internal.cli.base_command, pip._internal.operations.prepare\n")

    result = venv.python_run("-c", "import sys; print('wrapt' in sys.modules)")

    assert (result.returncode, result.stdout, result.stderr) == (0, "False\n", ""), str(result)


# -- pip driven in-process -----------------------------------------------------------


def test_command_main_called_in_process_installs_a_good_archive(venv: Venv, index, tmp_path):
    good = wheel("alpha", "1.0")
    index.publish(good)
    driver = write_script(tmp_path / "bin", "main_driver.py", MAIN_DRIVER)

    result = venv.python_run(driver, "-r", _requirements(tmp_path, good), "-i", index.url)

    assert result.returncode == 0, str(result)
    assert venv.installed("alpha")


def test_command_main_called_in_process_refuses_a_tampered_archive(
        venv: Venv, index, tmp_path, markers):
    good = sdist("beta", "2.0", marker_dir=markers)
    index.publish(tampered(good, marker_dir=markers))
    driver = write_script(tmp_path / "bin", "main_driver.py", MAIN_DRIVER)

    result = venv.python_run(driver, "-r", _requirements(tmp_path, good), "-i", index.url)

    assert refused(result), str(result)
    assert f"# sha256: {good.peep}" in result.stderr
    assert list(markers.iterdir()) == []
    assert not venv.installed("beta")


def test_preparer_used_outside_a_pip_command_is_refused_before_any_fetch(
        venv: Venv, index, tmp_path, markers):
    # Even with the right hash: the hook saw neither the file nor pip's options.
    good = sdist("beta", "2.0", marker_dir=markers)
    index.publish(good)
    mimic = write_script(tmp_path / "bin", "compile_mimic.py", COMPILE_MIMIC)

    result = venv.python_run(mimic, _requirements(tmp_path, good), index.url)

    assert result.returncode != 0, str(result)
    assert "resolved:" not in result.stdout
    assert ("pip is driven in-process by compile_mimic.py outside a pip command"
            in result.stderr), str(result)
    assert "PEEP_HOOK=off" in result.stderr
    # One paragraph, as pip prints its errors, not the program's traceback.
    assert result.returncode == 1 and result.stderr.startswith("ERROR: peep-hook: refusing")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, str(result)
    assert list(markers.iterdir()) == []  # nothing of the archive ran


def test_preparer_outside_a_pip_command_works_with_the_hook_off(
        venv: Venv, index, tmp_path, markers):
    # The advice the refusal gives works: resolving with PEEP_HOOK=off.
    good = sdist("beta", "2.0", marker_dir=markers)
    index.publish(good)
    mimic = write_script(tmp_path / "bin", "compile_mimic.py", COMPILE_MIMIC)

    result = venv.python_run(mimic, _requirements(tmp_path, good), index.url,
                             env={"PEEP_HOOK": "off"})

    assert result.returncode == 0, str(result)
    assert "resolved: beta" in result.stdout


def test_preparer_is_refused_when_the_hook_cannot_load(venv: Venv, index, tmp_path, markers):
    good = sdist("beta", "2.0", marker_dir=markers)
    index.publish(good)
    mimic = write_script(tmp_path / "bin", "compile_mimic.py", COMPILE_MIMIC)
    # Strict policy with an audit log that cannot be written: the hook refuses to load.
    unwritable = tmp_path / "no-such-directory" / "audit.jsonl"

    result = venv.python_run(mimic, _requirements(tmp_path, good), index.url,
                             env={"PEEP_HOOK_AUDIT_LOG": str(unwritable)})

    assert result.returncode != 0, str(result)
    assert "InstallationError: peep-hook cannot protect pip" in result.stderr, str(result)
    assert list(markers.iterdir()) == []
