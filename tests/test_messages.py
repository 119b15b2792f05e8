"""Messages an attacker's review found wrong, each now saying what is true."""

from __future__ import annotations

import dataclasses
import sys
import textwrap

import pytest

from tests._support.archives import backend_wheel, source_tree, tampered, wheel
from tests._support.index import Index
from tests._support.outcomes import refused, write
from tests._support.pips import PIP
from tests._support.venvs import Venv

# CI runs these on every pip and Python it tests (scripts/test.sh).
pytestmark = pytest.mark.core


def test_a_pip_older_than_supported_is_called_unsupported(venv: Venv):
    """Such a pip's internals differ, so the patches fail to import; the
    message must say the pip is too old, not that peep-hook needs reinstalling."""
    script = textwrap.dedent("""\
        import sys
        import pip
        pip.__version__ = "20.2.4"
        sys.modules["peep_hook.hook.targets"] = None  # as an old pip's layout would fail
        from peep_hook.startup import bootstrap
        print(bootstrap._load())
        """)
    result = venv.python_run("-c", script)
    assert result.returncode == 0, str(result)
    assert "older than the oldest supported (20.3)" in result.stdout, str(result)
    assert "Reinstall" not in result.stdout, str(result)


def test_mismatch_from_an_index_mentions_pips_http_cache(venv: Venv, index: Index, tmp_path):
    genuine = wheel("app", "1.0")
    index.publish(tampered(genuine))
    req = write(tmp_path / "req.txt", genuine.peep_block())
    result = venv.pip("install", "-r", req, "-i", index.url)
    assert refused(result), str(result)
    assert "(or pip's HTTP cache of an earlier download from it) served a wheel" in result.output
    assert "pip cache purge" in result.output
    assert "the index served" not in result.output


def test_mismatch_from_a_local_file_names_the_file(venv: Venv, tmp_path):
    genuine = wheel("app", "1.0")
    links = tmp_path / "links"
    tampered(genuine).write(links)
    req = write(tmp_path / "req.txt", genuine.peep_block())
    result = venv.pip("install", "-r", req, "--no-index", "--find-links", links)
    assert refused(result), str(result)
    assert "Hint: the file at " in result.output, str(result)
    assert "HTTP cache" not in result.output and "the index served" not in result.output


def test_mismatch_names_the_file_of_the_release_the_block_is_for(
        venv: Venv, index: Index, tmp_path):
    """A file filled on another Python: the block holds the hash of a wheel this
    Python cannot install, which the index lists (with its sha256) beside the
    one pip chooses here. The hint names that wheel and points to fill."""
    other = dataclasses.replace(wheel("app", "1.0", payload="BUILT_FOR = 'cp27'"),
                                filename="app-1.0-cp27-cp27mu-manylinux1_x86_64.whl")
    index.publish(other, wheel("app", "1.0"))
    req = write(tmp_path / "req.txt", other.peep_block())
    result = venv.pip("install", "-r", req, "-i", index.url)
    assert refused(result), str(result)
    assert ("The block's hash is for the cp27 wheel for manylinux1_x86_64 "
            f"(app-1.0-cp27-cp27mu-manylinux1_x86_64.whl), going by the sha256 published "
            f"beside it; this is Python {sys.version_info[0]}.{sys.version_info[1]}, and "
            "pip chose this file.") in " ".join(result.output.split()), str(result)
    assert "`peep-hook fill --all-files`" in result.output, str(result)
    assert "Successfully installed" not in result.output
    assert not [path for path in index.requested if path.endswith(other.filename)]


if PIP >= (21, 3):  # editable installs of a pyproject-only tree (PEP 660) from pip 21.3

    def test_an_editable_project_is_named_in_its_build_dependency_message(
            venv: Venv, index: Index, markers, tmp_path):
        builder = backend_wheel("builder", "1.0", marker_dir=markers)
        index.publish(builder)
        project = source_tree(tmp_path / "proj", "proj", "1.0", backend="builder",
                              build_requires=["builder"])
        result = venv.pip("install", "-e", project, "-i", index.url)
        assert refused(result), str(result)
        assert "a source distribution" not in result.output, str(result)
        assert "proj" in result.output and "builder==1.0" in result.output, str(result)
        assert list(markers.iterdir()) == []


if PIP >= (26, 1):  # pip installs from -r pylock.toml from 26.1

    def test_mismatch_from_a_pylock_names_the_lock_file_and_package_entry(
            venv: Venv, index: Index, tmp_path):
        genuine = wheel("app", "1.0")
        index.publish(tampered(genuine))
        lock = write(tmp_path / "pylock.toml", textwrap.dedent(f"""\
            lock-version = "1.0"
            created-by = "a test"

            [[packages]]
            name = "app"
            version = "1.0"

            [[packages.wheels]]
            name = "{genuine.filename}"
            url = "{index.base}/files/{genuine.filename}"
            hashes = {{sha256 = "{genuine.sha256}"}}
            """))
        result = venv.pip("install", "-r", lock)
        assert refused(result), str(result)
        assert "(pylock.toml, line 11, in the [[packages]] entry for app==1.0)" in result.output
        assert "origin unknown" not in result.output
