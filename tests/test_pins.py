"""The pins registry and its hand-off file (no pip needed)."""

import os
import stat

import pytest

from peep_hook.core.hashed_pins import HANDOFF_ENV, HandoffError, Pins

HEX_A = "a" * 64
HEX_B = "b" * 64


def test_names_are_normalised_and_hashes_merge():
    pins = Pins()
    pins.add("Foo_Bar", "1.0", [HEX_A], "req.txt:3")
    pins.add("foo-bar", "1.0", [HEX_B, HEX_A], "constraints.txt:1")
    assert pins.hashes_for("FOO.bar") == [HEX_A, HEX_B]
    assert pins.exact_version("foo_bar") == "1.0"


def test_two_versions_give_no_exact_pin():
    pins = Pins()
    pins.add("foo", "1.0", [HEX_A], "a:1")
    pins.add("foo", "2.0", [HEX_B], "b:1")
    assert pins.exact_version("foo") is None
    assert pins.exact_pins() == {}


def test_handoff_round_trip_is_private_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    pins = Pins()
    pins.add("foo", "1.0", [HEX_A], "req.txt:2")
    with pins.handed_off() as path:
        assert os.environ[HANDOFF_ENV] == path
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        copy = Pins.read_handoff(path)
    assert copy.hashes_for("foo") == [HEX_A] and copy.exact_version("foo") == "1.0"
    assert HANDOFF_ENV not in os.environ
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))


def test_altered_handoff_is_rejected():
    pins = Pins()
    pins.add("foo", "1.0", [HEX_A], "req.txt:2")
    text = pins.to_text().replace(HEX_A, HEX_B)
    with pytest.raises(HandoffError, match="checksum"):
        Pins.from_text(text)


@pytest.mark.parametrize("text", ["", "[]", "{}", "null", '{"payload": 1}'])
def test_garbage_handoff_is_rejected(text):
    with pytest.raises(HandoffError):
        Pins.from_text(text)


def test_missing_handoff_is_rejected(tmp_path):
    with pytest.raises(HandoffError, match="cannot read"):
        Pins.read_handoff(str(tmp_path / "absent.json"))


def test_handoff_that_cannot_be_written_raises_and_leaves_nothing(tmp_path, monkeypatch):
    # A full or read-only temporary directory: the caller (pip_patches) turns
    # the OSError into a refusal; nothing is left behind and the environment
    # is untouched.
    import errno
    import tempfile

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", no_space)
    pins = Pins()
    pins.add("foo", "1.0", [HEX_A], "req.txt:2")
    with pytest.raises(OSError):
        with pins.handed_off():
            pass
    assert HANDOFF_ENV not in os.environ


def test_handoff_write_failure_removes_the_directory(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def full_disk(fd, *args, **kwargs):
        os.close(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", full_disk)
    pins = Pins()
    with pytest.raises(OSError):
        with pins.handed_off():
            pass
    assert list(tmp_path.iterdir()) == []
    assert HANDOFF_ENV not in os.environ
