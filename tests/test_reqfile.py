"""peep's block rules, on synthetic text and on two real peep-era files."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest

from peep_hook.core import hashes, reqfile
from peep_hook.core.hashes import MalformedHash, peep_to_hex
from peep_hook.core.reqfile import scan

DATA = Path(__file__).parent / "data" / "peep-files"
H1 = "L9XU_-gfdi3So-WEctaQoNu6N2Z3ZQYAOu4-16qor-8"
H2 = "irsvHYaJCi37mJ-ad8_P0-R8KjVLAREXcTJviqJuAlQ"
H3 = "jEqwxPIncwUZ3B4CD4dbPvl-ZDyPQ6mKT6DEb7rRJFA"


def values(text: str) -> dict[int, list[str]]:
    return {n: [h.value for h in block] for n, block in scan(text).blocks.items()}


def test_hash_applies_to_the_next_requirement():
    assert values(f"# sha256: {H1}\nFlask==0.9\n") == {2: [H1]}


def test_hash_values_convert_to_hex():
    block = scan(f"# sha256: {H1}\nFlask==0.9\n").hashes_for(2)
    assert [h.hex for h in block] == [peep_to_hex(H1)]


def test_hashes_stack():
    assert values(f"# sha256: {H1}\n# sha256: {H2}\nx==1\n") == {3: [H1, H2]}


def test_blank_lines_and_comments_inside_a_block_keep_it():
    text = f"# sha256: {H1}\n\n# a comment\n   \n# sha256: {H2}\n# another\n\nx==1\n"
    assert values(text) == {8: [H1, H2]}


def test_each_requirement_gets_only_its_own_block():
    text = f"# sha256: {H1}\na==1\n# sha256: {H2}\nb==1\nc==1\n"
    assert values(text) == {2: [H1], 4: [H2]}


@pytest.mark.parametrize("option", ["-i https://example/simple", "--no-index", "-r other.txt",
                                    "-f ./wheels", "--extra-index-url https://x"])
def test_option_line_resets_the_block(option):
    result = scan(f"# sha256: {H1}\n{option}\nx==1\n")
    assert result.blocks == {}
    assert [h.lineno for h in result.orphans] == [1]


def test_editable_line_keeps_its_block():
    assert values(f"# sha256: {H1}\n-e ./src\n") == {2: [H1]}


def test_continued_requirement_is_known_by_its_first_line():
    text = f"# sha256: {H1}\nx==1 \\\n    --no-binary x\n# sha256: {H2}\ny==2\n"
    assert values(text) == {2: [H1], 5: [H2]}


def test_continuation_line_resets_the_block():
    # A hash "inside" a continuation belongs to nothing once the continuation ends.
    text = "x==1 \\\n  --config-settings a=b \\\n  --no-binary x\ny==1\n"
    assert values(text) == {}


def test_trailing_hashes_apply_to_nothing():
    result = scan(f"x==1\n# sha256: {H1}\n")
    assert result.blocks == {}
    assert [h.lineno for h in result.orphans] == [2]


def test_hash_on_the_requirement_line_is_not_a_hash():
    assert values(f"x==1  # sha256: {H1}\n") == {}


def test_trailing_comment_after_the_value_is_allowed():
    assert values(f"  # sha256: {H1}  # the sdist\nx==1\n") == {2: [H1]}


@pytest.mark.parametrize(
    "line",
    [f"#sha256: {H1}", f"# sha256:{H1}", f"# SHA256: {H1}", f"# sha512: {H1}",
     f"# Sha256: {H1}", f"#  sha-256: {H1}"],
)
def test_near_misses_are_not_hash_lines_but_are_noticed(line):
    result = scan(f"{line}\nx==1\n")
    assert result.blocks == {}
    assert result.near_misses == [(1, line)]


def test_ordinary_comments_are_not_near_misses():
    text = "# sha256 hashes below are for the sdists\n# tar.gz\n# zip\nx==1\n"
    assert scan(text).near_misses == []


@pytest.mark.parametrize(
    "value", [H1[:-1], H1 + "x", "a" * 64, H1[:-1] + "9", H1.replace("_", "+"), "abc#def"]
)
def test_malformed_values_are_reported_with_their_line(value):
    result = scan(f"# fine\n# sha256: {value}\nx==1\n")
    assert [h.lineno for h in result.malformed] == [2]
    assert result.malformed[0].error
    # A malformed value never becomes an expected hash.
    assert all(h.hex is None for h in result.hashes_for(3))


def test_line_numbers_follow_pips_splitlines():
    # pip numbers lines with str.splitlines(): \r\n, lone \r and form feeds all split.
    text = f"# sha256: {H1}\r\na==1\r# sha256: {H2}\x0cb==1\n"
    assert values(text) == {2: [H1], 4: [H2]}


def test_kitsune_file_every_hash_belongs_to_a_requirement():
    text = (DATA / "kitsune-default.txt").read_text()
    result = scan(text)
    assert result.malformed == [] and result.near_misses == []
    assert sum(len(b) for b in result.blocks.values()) + len(result.orphans) == 185
    assert result.orphans == []
    lines = text.splitlines()
    assert lines[3 - 1] == "# sha256: jEqwxPIncwUZ3B4CD4dbPvl-ZDyPQ6mKT6DEb7rRJFA"
    assert values(text)[4] == ["jEqwxPIncwUZ3B4CD4dbPvl-ZDyPQ6mKT6DEb7rRJFA"]
    assert max(len(b) for b in result.blocks.values()) == 42
    url_lines = [n for n in result.blocks if lines[n - 1].startswith("https://")]
    assert url_lines, "URL requirements carry hashes too"


def test_airmozilla_file_comments_between_hashes_and_requirements():
    text = (DATA / "airmozilla-requirements.txt").read_text()
    result = scan(text)
    assert result.malformed == []
    assert sum(len(b) for b in result.blocks.values()) == 129
    assert len(result.blocks) == 71
    lines = text.splitlines()
    lxml = next(n for n, line in enumerate(lines, 1) if line == "lxml==3.3.5")
    assert [h.value for h in result.hashes_for(lxml)] == ["ataUncfup0SjD7p3qWjdWRD1RSIOWLzIE7nfXHk-MYo"]


# The strict decoder (binascii's strict_mode) exists from Python 3.11 on;
# before, scan uses only the lenient one, so only that one is tested there.
@pytest.mark.parametrize("strict", [True, False] if hashes.STRICT_BASE64 else [False],
                         ids=lambda strict: "strict-decoder" if strict else "lenient-decoder")
def test_all_values_at_once_agree_with_one_at_a_time_and_refuse_what_it_refuses(strict):
    # scan converts every value with one decode (strict where Python has it;
    # checked by translation before); any malformed value sends the file to
    # the one-by-one path, which names it.
    rng = random.Random(12)
    good = [base64.urlsafe_b64encode(bytes(rng.randrange(256) for _ in range(32)))
            .decode().rstrip("=") for _ in range(200)]
    good.append(base64.urlsafe_b64encode(bytes(32)).decode().rstrip("="))  # ends in 00
    assert reqfile._all_to_hex(good, strict=strict) == [peep_to_hex(v) for v in good]
    bad_last = good[0][:42] + "B"  # leaves a set bit beyond the 256
    for malformed in (good[0][:42], good[0] + "A", good[0][:42] + "+", "/" + good[0][1:],
                      good[0][:41] + "=A", good[0][:42] + "\u00e9", bad_last):
        with pytest.raises(MalformedHash):
            peep_to_hex(malformed)
        assert reqfile._all_to_hex(good + [malformed], strict=strict) is None, malformed
