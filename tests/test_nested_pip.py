"""A pip started below a protected pip run: by a build backend, in a child
process (``python -m pip install`` from a legacy ``setup.py``) or in-process
(pip's ``main()``). pip's isolated build environment drops site-packages from
``sys.path``; the pip the backend runs must still be hooked, or refuse.

The global hook's side of this is in tests/test_global.py's scenario.
"""

from __future__ import annotations

import pytest

from tests._support.nested import publish_nested_pip_project
from tests._support.venvs import Venv

# CI runs these on every pip and Python it tests (scripts/test.sh).
pytestmark = pytest.mark.core


@pytest.mark.parametrize("in_process", [False, True], ids=["child", "in-process"])
def test_a_pip_run_by_a_build_backend_installs_nothing_unhashed(
        venv: Venv, index, markers, wheelhouse, pip_version, tmp_path, in_process):
    pip_wheel = next(wheelhouse.glob(f"pip-{pip_version}-*.whl"))
    project = publish_nested_pip_project(index, markers, pip_wheel, tmp_path,
                                         in_process=in_process)

    result = venv.pip("install", "--no-cache-dir", "-r", project.requirements,
                      "-c", project.constraints, "-i", index.url)

    assert (markers / "pipbackend-1.0").exists(), str(result)  # the backend ran its pip
    assert result.returncode == 1, str(result)
    assert f"# sha256: {project.helper.peep}" in result.output, str(result)  # hooked
    assert not venv.installed("helperlib"), str(result)
    assert not (markers / "helperlib-1.0").exists(), str(result)  # its code never ran
    assert not venv.installed("app")
