"""Converting between peep's hash comments and pip's --hash options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peep_hook.commands.port import PortError, to_peep, to_pip
from peep_hook.core.hashes import hex_to_peep, peep_to_hex
from peep_hook.core.reqfile import logical_lines, scan

DATA = Path(__file__).parent / "data" / "peep-files"
H1 = "L9XU_-gfdi3So-WEctaQoNu6N2Z3ZQYAOu4-16qor-8"
H2 = "irsvHYaJCi37mJ-ad8_P0-R8KjVLAREXcTJviqJuAlQ"
H3 = "jEqwxPIncwUZ3B4CD4dbPvl-ZDyPQ6mKT6DEb7rRJFA"
X1, X2, X3 = peep_to_hex(H1), peep_to_hex(H2), peep_to_hex(H3)
SHA512 = "--hash=sha512:" + "ab" * 64

_HASH_OPTION = re.compile(r"--hash[= ]sha256:([0-9a-fA-F]{64})")


def hashes_per_requirement(text: str) -> list[tuple[str, frozenset[str]]]:
    """Each requirement in order, with every sha256 it carries in either form.

    The requirement is named by its text without hash options, so that the
    same requirement can be recognised in both forms.
    """
    blocks = scan(text)
    result = []
    for logical in logical_lines(text):
        if logical.is_option or not logical.text:
            continue
        found = {h.hex for h in blocks.hashes_for(logical.lineno)}
        found |= {d.lower() for d in _HASH_OPTION.findall(logical.text)}
        bare = " ".join(_HASH_OPTION.sub("", logical.text).split())
        result.append((bare, frozenset(found)))
    return result


def pip_parsed_hashes(path: Path) -> list[tuple[str, list[str]]]:
    """What pip's own requirements-file parser reads: the final word."""
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements

    return [
        (parsed.requirement.strip(), (parsed.options or {}).get("hashes", {}).get("sha256", []))
        for parsed in parse_requirements(str(path), session=PipSession())
    ]


# -- peep -> pip ------------------------------------------------------------------


def test_peep_block_becomes_pip_compile_style_hash_options():
    assert to_pip(f"# sha256: {H1}\n# sha256: {H2}\nFlask==0.9\n").text == (
        f"Flask==0.9 \\\n    --hash=sha256:{X1} \\\n    --hash=sha256:{X2}\n"
    )


def test_comments_blank_lines_and_option_lines_are_kept():
    text = (
        "# Our requirements\n-i https://example/simple\n--no-index\n-r base.txt\n"
        f"-c constraints.txt\n\n# sha256: {H1}\n\n# the sdist\nFlask==0.9\n"
    )
    assert to_pip(text).text == (
        "# Our requirements\n-i https://example/simple\n--no-index\n-r base.txt\n"
        f"-c constraints.txt\n\n\n# the sdist\nFlask==0.9 \\\n    --hash=sha256:{X1}\n"
    )


def test_environment_marker_stays_ahead_of_the_hashes():
    text = f"# sha256: {H1}\npkg==1.0 ; python_version < \"3\"\n"
    assert to_pip(text).text == (
        f"pkg==1.0 ; python_version < \"3\" \\\n    --hash=sha256:{X1}\n"
    )


def test_url_requirement_keeps_its_egg_fragment():
    url = "https://github.com/jsocol/bleach/archive/ab7c8b3f.tar.gz#egg=bleach==1.2.1"
    assert to_pip(f"# sha256: {H1}\n{url}\n").text == f"{url} \\\n    --hash=sha256:{X1}\n"


def test_trailing_comment_moves_after_the_hashes_so_pip_still_reads_them():
    # Appended after the comment, the hashes would be part of the comment.
    assert to_pip(f"# sha256: {H1}\nx==1  # pinned for py2\n").text == (
        f"x==1 \\\n    --hash=sha256:{X1}  # pinned for py2\n"
    )


def test_existing_hash_options_are_merged_without_duplicates():
    text = f"# sha256: {H1}\n# sha256: {H2}\nx==1 --hash=sha256:{X1.upper()} {SHA512}\n"
    assert to_pip(text).text == (
        f"x==1 --hash=sha256:{X1.upper()} {SHA512} \\\n    --hash=sha256:{X2}\n"
    )


def test_requirement_already_carrying_every_hash_is_left_as_written():
    assert to_pip(f"# sha256: {H1}\nx==1 --hash=sha256:{X1}\n").text == (
        f"x==1 --hash=sha256:{X1}\n"
    )


def test_repeated_peep_hash_is_written_once():
    assert to_pip(f"# sha256: {H1}\n# sha256: {H1}\nx==1\n").text.count("--hash") == 1


def test_continued_requirement_gets_its_hashes_after_its_last_line():
    text = f"# sha256: {H1}\nx==1 \\\n    --config-settings a=b\ny==2\n"
    assert to_pip(text).text == (
        f"x==1 \\\n    --config-settings a=b \\\n    --hash=sha256:{X1}\ny==2\n"
    )


def test_backslash_before_a_comment_line_is_replaced_by_the_hashes():
    text = f"# sha256: {H1}\nx==1 \\\n# pip joins this comment, which adds nothing\n"
    assert to_pip(text).text == (
        f"x==1 \\\n    --hash=sha256:{X1}\n# pip joins this comment, which adds nothing\n"
    )


def test_orphan_hash_stays_a_comment_with_a_warning():
    ported = to_pip(f"# sha256: {H1}\n-i https://example/simple\nx==1\n# sha256: {H2}\n")
    assert ported.text == f"# sha256: {H1}\n-i https://example/simple\nx==1\n# sha256: {H2}\n"
    assert [n for n, _ in ported.warnings] == [1, 4]
    assert "belongs to no requirement" in ported.warnings[0][1]


def test_near_miss_stays_a_comment_with_a_warning():
    ported = to_pip(f"#sha256: {H1}\nx==1\n")
    assert ported.text == f"#sha256: {H1}\nx==1\n"
    assert ported.warnings == [(1, f"looks like a hash line but is not one; kept as a "
                                   f"comment: #sha256: {H1}")]


def test_malformed_peep_value_refuses_with_its_line():
    with pytest.raises(PortError) as caught:
        to_pip(f"# sha256: {H1}\nx==1\n# sha256: {H1[:-1]}\ny==1\n")
    assert [n for n, _ in caught.value.problems] == [3]
    assert "42 characters" in caught.value.problems[0][1]


def test_line_endings_come_out_as_newlines():
    assert to_pip(f"# sha256: {H1}\r\nx==1\r\n-i https://x\r").text == (
        f"x==1 \\\n    --hash=sha256:{X1}\n-i https://x\n"
    )


# -- pip -> peep ------------------------------------------------------------------


def test_hash_options_become_peep_lines_above_the_requirement():
    text = f"# deps\nFlask==0.9 \\\n    --hash=sha256:{X1} \\\n    --hash=sha256:{X2}\ny==1\n"
    assert to_peep(text).text == f"# deps\n# sha256: {H1}\n# sha256: {H2}\nFlask==0.9\ny==1\n"


def test_hash_options_on_the_requirement_line_are_removed():
    text = f"x==1 --hash=sha256:{X1} --hash sha256:{X2}  # two wheels\n"
    assert to_peep(text).text == f"# sha256: {H1}\n# sha256: {H2}\nx==1  # two wheels\n"


def test_other_hash_algorithms_and_options_stay_as_options():
    text = (f"x==1 \\\n    --hash=sha256:{X1} --config-settings a=b \\\n    {SHA512} \\\n"
            f"    --hash=sha256:{X2}\n")
    assert to_peep(text).text == (
        f"# sha256: {H1}\n# sha256: {H2}\nx==1 \\\n    --config-settings a=b \\\n    {SHA512}\n"
    )


def test_comment_on_a_removed_hash_line_moves_to_the_line_before():
    text = f"x==1 \\\n    --hash=sha256:{X1}  # the sdist\n"
    assert to_peep(text).text == f"# sha256: {H1}\nx==1  # the sdist\n"


def test_existing_peep_block_is_merged_without_duplicates():
    text = f"# sha256: {H1}\n# a note\nx==1 --hash=sha256:{X1.upper()} --hash=sha256:{X2}\n"
    assert to_peep(text).text == f"# sha256: {H1}\n# a note\n# sha256: {H2}\nx==1\n"


def test_hash_option_inside_a_comment_is_not_converted():
    # pip drops everything after the comment, even on joined lines.
    text = f"x==1  # old: --hash=sha256:{X1} \\\n    --hash=sha256:{X2}\n"
    assert to_peep(text).text == text


def test_hash_option_on_an_option_line_is_left_alone():
    text = f"--hash=sha256:{X1}\nx==1\n"
    assert to_peep(text).text == text


def test_malformed_hex_refuses_with_its_line():
    with pytest.raises(PortError) as caught:
        to_peep(f"x==1 \\\n    --hash=sha256:{X1} \\\n    --hash=sha256:{X2[:-1]}\n")
    assert [n for n, _ in caught.value.problems] == [3]


# -- real files ---------------------------------------------------------------------


def test_kitsune_ports_with_all_185_hashes_on_its_94_requirements():
    text = (DATA / "kitsune-default.txt").read_text()
    ported = to_pip(text)
    assert ported.warnings == []
    assert "# sha256:" not in ported.text
    per_requirement = hashes_per_requirement(ported.text)
    assert len(per_requirement) == 94
    assert sum(len(found) for _, found in per_requirement) == 185
    assert per_requirement == hashes_per_requirement(text)
    assert "#egg=bleach==1.2.1 \\\n    --hash=sha256:" in ported.text


@pytest.mark.parametrize("name, requirements, hashes", [
    ("kitsune-default.txt", 94, 185),
    ("airmozilla-requirements.txt", 71, 129),
])
def test_pip_itself_reads_every_hash_from_the_ported_file(tmp_path, name, requirements, hashes):
    text = (DATA / name).read_text()
    ported = tmp_path / "requirements.txt"
    ported.write_text(to_pip(text).text)
    parsed = pip_parsed_hashes(ported)
    assert len(parsed) == requirements
    assert sum(len(found) for _, found in parsed) == hashes
    expected = [sorted(found) for _, found in hashes_per_requirement(text)]
    assert [sorted(found) for _, found in parsed] == expected


def test_kitsune_round_trips_to_the_same_text():
    text = (DATA / "kitsune-default.txt").read_text()
    assert to_peep(to_pip(text).text).text == text


def test_airmozilla_round_trips_to_the_same_hashes_and_comments():
    text = (DATA / "airmozilla-requirements.txt").read_text()
    back = to_peep(to_pip(text).text).text
    assert hashes_per_requirement(back) == hashes_per_requirement(text)
    comments = [line for line in text.splitlines() if line.startswith("#")
                and not line.startswith("# sha256:")]
    assert [line for line in back.splitlines() if line in comments] == comments


# -- round trip, generally --------------------------------------------------------------

_digests = st.sampled_from([X1, X2, X3])


@st.composite
def requirements_files(draw: st.DrawFn) -> str:
    """Files mixing peep blocks, --hash options, comments and option lines."""
    out = []
    for n in range(draw(st.integers(0, 6))):
        out += draw(st.lists(st.sampled_from(["", "# note", "-i https://example/simple",
                                              "--no-index"]), max_size=2))
        out += [f"# sha256: {hex_to_peep(d)}" for d in draw(st.lists(_digests, max_size=3))]
        out += draw(st.lists(st.just("# between"), max_size=1))
        requirement = draw(st.sampled_from([f"pkg{n}==1.0", f"pkg{n}[x]==1.0 ; python_version>'3'",
                                            f"https://h/p{n}.tar.gz#egg=pkg{n}"]))
        options = [f"--hash=sha256:{d}" for d in draw(st.lists(_digests, max_size=3))]
        comment = draw(st.sampled_from(["", "  # pinned"]))
        if draw(st.booleans()):
            out.append(" ".join([requirement, *options]) + comment)
        else:
            out += [requirement + (" \\" if options else "")]
            out += [f"    {o} \\" for o in options[:-1]] + [f"    {o}" for o in options[-1:]]
            out[-1] += comment
    return "".join(line + "\n" for line in out)


@settings(max_examples=200, deadline=None)
@given(requirements_files())
def test_port_and_back_keeps_every_requirements_hashes(text):
    there = to_pip(text).text
    back = to_peep(there).text
    assert hashes_per_requirement(there) == hashes_per_requirement(text)
    assert hashes_per_requirement(back) == hashes_per_requirement(text)
    assert scan(there).blocks == {}  # no peep block is left in pip's form
    assert "--hash=sha256:" not in back
