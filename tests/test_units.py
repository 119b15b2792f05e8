"""Small pure pieces: the policy setting and the report's wording helpers."""

from types import SimpleNamespace

from peep_hook.core import messages, policy


def test_policy_defaults_to_strict():
    assert policy.current({}) == policy.Policy("strict", "default")


def test_policy_off_is_read_from_the_environment():
    assert policy.current({"PEEP_HOOK": "OFF "}).mode == "off"


def test_unknown_policy_value_never_weakens():
    setting = policy.current({"PEEP_HOOK": "disabled"})
    assert setting.mode == "strict" and "disabled" in setting.warning


def test_version_is_read_from_the_archive_name():
    link = SimpleNamespace(filename="Foo_Bar-1.2.post1.tar.gz")
    inner = SimpleNamespace(name="foo-bar", extras=set())
    req = SimpleNamespace(req=inner, link=link, original_link=None, is_pinned=False)
    assert messages.paste_requirement(req) == "foo-bar==1.2.post1"
    req.link = SimpleNamespace(filename="foo_bar-3.0-py3-none-any.whl")
    assert messages.paste_requirement(req) == "foo-bar==3.0"


def test_url_requirement_is_pasted_as_written():
    url = "https://host/archive/abc.tar.gz#egg=bleach==1.2.1"
    req = SimpleNamespace(req=None, link=SimpleNamespace(filename="abc.tar.gz"),
                          original_link=SimpleNamespace(url=url), is_pinned=False)
    assert messages.paste_requirement(req) == url


def test_empty_archive_hint_says_truncated():
    from peep_hook.core.hashes import EMPTY_SHA256_HEX
    assert "truncated" in messages._mismatch_hint(EMPTY_SHA256_HEX, "x-1.0.tar.gz")


def test_mismatch_hint_points_to_fill_instead_of_piling_up_hashes():
    import sys

    hint = messages._mismatch_hint("0" * 64, "x-1.0-cp311-cp311-any.whl")
    assert "`peep-hook fill --all-files`" in hint and "`peep-hook fill --update`" in hint
    assert f"this is Python {sys.version_info[0]}.{sys.version_info[1]}" in hint
    assert "one more line" not in hint


def test_cut_short_archives_are_recognised(tmp_path):

    from peep_hook.core.hashes import looks_incomplete
    from tests._support.archives import sdist, wheel

    whole = wheel("alpha", "1.0").write(tmp_path / "whole")
    cut = tmp_path / "cut" / whole.name
    cut.parent.mkdir()
    cut.write_bytes(whole.read_bytes()[:-30])
    assert not looks_incomplete(str(whole)) and looks_incomplete(str(cut))
    tarball = sdist("beta", "1.0", marker_dir=tmp_path).write(tmp_path / "sd")
    short = tmp_path / "short" / tarball.name
    short.parent.mkdir()
    short.write_bytes(tarball.read_bytes()[:-10])
    assert not looks_incomplete(str(tarball)) and looks_incomplete(str(short))
    assert "truncated" in messages._mismatch_hint("0" * 64, "x.whl", incomplete=True)


def test_status_does_not_take_the_bootstrap_it_imported_for_a_started_hook(monkeypatch):
    import sys

    from peep_hook.commands import status
    from peep_hook.startup import bootstrap

    trampoline = SimpleNamespace(__name__="_peep_hook_start", __file__="/site/_peep_hook_start.py")
    monkeypatch.setitem(sys.modules, "_peep_hook_start", trampoline)
    monkeypatch.setattr(sys, "meta_path", [trampoline])
    monkeypatch.setattr(bootstrap, "_state", dict(bootstrap._state, watching=False,
                                                    armed=False, loaded=False))

    assert "peep_hook.startup.bootstrap" in sys.modules  # status imports it for its facts
    assert status._bootstrap_state() == {"started": True, "global_home": None,
                                         "file": "/site/_peep_hook_start.py"}
    monkeypatch.setattr(sys, "meta_path", [])
    assert status._bootstrap_state()["started"] is False
