"""Properties of the raw-text scan, checked against a reference model.

The model below walks physical lines with peep's block rules written as
plainly as possible, and recognises hash lines and values without regular
expressions; the scan must agree with it on any text. Line joining is checked
against pip's own ``join_lines``.
"""

from __future__ import annotations

import base64
import string
from dataclasses import dataclass

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pip._internal.req.req_file import COMMENT_RE as PIP_COMMENT_RE
from pip._internal.req.req_file import ignore_comments, join_lines

from peep_hook.core.reqfile import COMMENT_RE, FileHashes, logical_lines, scan

H1 = "L9XU_-gfdi3So-WEctaQoNu6N2Z3ZQYAOu4-16qor-8"
H2 = "irsvHYaJCi37mJ-ad8_P0-R8KjVLAREXcTJviqJuAlQ"
H3 = "jEqwxPIncwUZ3B4CD4dbPvl-ZDyPQ6mKT6DEb7rRJFA"

# Everything str.splitlines() (and so pip) breaks a line at.
LINE_BREAKS = ["\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85",
               "\u2028", "\u2029"]
# Whitespace that does not break a line, including a few that only Unicode calls space.
INLINE_SPACE = " \t\x1f\xa0\u2003\u3000"

FEW = settings(max_examples=200, deadline=None)


# -- the reference model ---------------------------------------------------------

_ALPHABET = set(string.ascii_letters + string.digits + "-_")


def model_hash_value(line: str) -> str | None:
    """The value of a peep hash line, or None if the line is not one.

    '#', whitespace, 'sha256:', whitespace, then the value. peep's pattern
    lets its value part backtrack, so the value is the longest run of
    non-space characters after which only whitespace, or a '#' comment, is left.
    """
    rest = line.lstrip()
    for part in ("#", "sha256:"):
        if not rest.startswith(part) or not rest[len(part):][:1].isspace():
            return None
        rest = rest[len(part):].lstrip()
    end = 0
    while end < len(rest) and not rest[end].isspace():
        end += 1
    after = rest[end:].lstrip()
    if end and (not after or after.startswith("#")):
        return rest[:end]
    for cut in range(end - 1, 0, -1):
        if rest[cut] == "#":  # the value stops here, the rest is a comment
            return rest[:cut]
    return None


def model_hex(value: str) -> str | None:
    """The hex digest of a canonical unpadded URL-safe base64 SHA-256, or None."""
    if len(value) != 43 or not set(value) <= _ALPHABET:
        return None
    raw = base64.urlsafe_b64decode(value + "=")
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != value:
        return None  # the unused low bits are not zero
    return raw.hex()


def is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def is_option(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("-") and not is_editable(stripped)


def is_editable(stripped: str) -> bool:
    for flag in ("--editable", "-e"):
        if stripped.startswith(flag):
            following = stripped[len(flag):len(flag) + 1]
            return not (following.isalnum() or following == "_")  # a whole word
    return False


@dataclass
class Model:
    blocks: dict[int, list[tuple[int, str, str | None]]]
    orphans: list[int]
    malformed: list[int]


def model_scan(text: str) -> Model:
    model = Model({}, [], [])
    pending: list[tuple[int, str, str | None]] = []
    continued = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if is_blank_or_comment(line):
            value = model_hash_value(line)
            if value is not None:
                hex_digest = model_hex(value)
                pending.append((lineno, value, hex_digest))
                if hex_digest is None:
                    model.malformed.append(lineno)
            continued = False  # pip ends a continuation at a comment or blank line
            continue
        if continued or is_option(line):
            model.orphans.extend(n for n, _, _ in pending)
        elif pending:
            model.blocks[lineno] = pending
        pending = []
        continued = line.endswith("\\")
    model.orphans.extend(n for n, _, _ in pending)
    return model


def as_model(result: FileHashes) -> Model:
    return Model(
        {n: [(h.lineno, h.value, h.hex) for h in block] for n, block in result.blocks.items()},
        [h.lineno for h in result.orphans],
        [h.lineno for h in result.malformed],
    )


# -- strategies --------------------------------------------------------------------

inline_space = st.text(alphabet=INLINE_SPACE, max_size=3)
some_space = st.text(alphabet=INLINE_SPACE, min_size=1, max_size=3)
no_break_text = st.text(
    alphabet=st.characters(blacklist_characters="".join(LINE_BREAKS)), max_size=30
)
valid_values = st.one_of(
    st.sampled_from([H1, H2, H3]),
    st.binary(min_size=32, max_size=32).map(
        lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")
    ),
)
malformed_values = st.sampled_from([
    H1[:-1], H1 + "A", H1[:-1] + "9", H1.replace("_", "+"), H1[:10] + "=" + H1[11:],
    "a" * 64, "abc#def", "#", H1 + "#", H1 + "#x", "\x00" * 43,
])
token_values = st.text(alphabet=st.characters(blacklist_categories=("Zs", "Cc", "Zl", "Zp")),
                       min_size=1, max_size=50)
values = st.one_of(valid_values, malformed_values, token_values)
trailing_comments = st.one_of(st.just(""), no_break_text.map(lambda t: " #" + t),
                              no_break_text.map(lambda t: "#" + t))


@st.composite
def hash_lines(draw: st.DrawFn) -> str:
    return (draw(inline_space) + "#" + draw(some_space) + "sha256:" + draw(some_space)
            + draw(values) + draw(inline_space) + draw(trailing_comments))


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """Lines a person meant as hash lines, in each way of getting one wrong."""
    label = draw(st.sampled_from(["sha256", "SHA256", "Sha256", "sha-256", "SHA-256",
                                  "sha384", "sha512", "md5"]))
    return (draw(inline_space) + "#" + draw(inline_space) + label + draw(inline_space)
            + draw(st.sampled_from([":", "="])) + draw(inline_space) + draw(valid_values))


# Lines that end a block, each in its own way.
block_ends = st.sampled_from([
    "Flask==0.9", "x==1 \\", "   --no-binary x \\", "\\", "pkg ; python_version < '3'",
    "x==1 \\ ",  # a space after the backslash: not a continuation
    "https://host/a.tar.gz#egg=a==1", "-e ./src", "-e.", "--editable=./x", "-ex",
    "-editable", "-i https://example/simple", "--no-index", "-r other.txt",
    "-c constraints.txt", "--hash=sha256:00", "x==1  # sha256: " + H1,
])
other_lines = st.one_of(
    block_ends,
    st.sampled_from(["", "   ", "\t", "#", "# a comment", "  # sha256 hashes below"]),
    no_break_text,
)


@st.composite
def blocks(draw: st.DrawFn) -> list[str]:
    """Hash lines, maybe with comments and blank lines among them, then a line
    that ends the block."""
    inside = st.one_of(hash_lines(), near_misses(),
                       st.sampled_from(["", "  ", "# a comment", "#"]))
    return draw(st.lists(inside, max_size=4)) + [draw(block_ends)]


lines = st.lists(st.one_of(blocks(), st.lists(other_lines, max_size=2)), max_size=8).map(
    lambda groups: [line for group in groups for line in group]
)


@st.composite
def files(draw: st.DrawFn) -> str:
    """A requirements file made of the lines above, with mixed line breaks."""
    parts = draw(lines)
    breaks = draw(st.lists(st.sampled_from(LINE_BREAKS), min_size=1, max_size=3))
    return "".join(part + breaks[n % len(breaks)] for n, part in enumerate(parts))


# -- properties --------------------------------------------------------------------


@FEW
@given(st.text())
def test_scan_never_raises_and_agrees_with_the_model_on_any_text(text):
    assert as_model(scan(text)) == model_scan(text)


@FEW
@given(st.binary())
def test_any_bytes_decoded_leniently_scan_like_the_model(data):
    for text in (data.decode("latin-1"), data.decode("utf-8", "surrogateescape")):
        assert as_model(scan(text)) == model_scan(text)


@FEW
@given(files())
def test_scan_agrees_with_the_model_on_requirements_like_text(text):
    assert as_model(scan(text)) == model_scan(text)


@FEW
@given(files())
def test_malformed_values_have_no_hex_and_give_no_requirement_a_hash(text):
    result = scan(text)
    malformed = {h.lineno for h in result.malformed}
    assert all(h.hex is None and h.error for h in result.malformed)
    for block in result.blocks.values():
        for h in block:
            assert (h.hex is None) == (h.lineno in malformed)
            assert h.hex is None or len(h.hex) == 64


@FEW
@given(files())
def test_line_numbers_are_str_splitlines_numbers(text):
    physical = text.splitlines()
    result = scan(text)
    # A block belongs to the first physical line of a requirement, as in pip.
    assert set(result.blocks) <= {ll.lineno for ll in logical_lines(text)}
    for lineno, block in result.blocks.items():
        assert not is_blank_or_comment(physical[lineno - 1])
        for h in block:
            assert model_hash_value(physical[h.lineno - 1]) == h.value
    for h in result.orphans:
        assert model_hash_value(physical[h.lineno - 1]) == h.value
    for lineno, shown in result.near_misses:
        assert physical[lineno - 1].strip() == shown


@FEW
@given(lines, st.sampled_from(LINE_BREAKS))
def test_every_kind_of_line_break_gives_the_same_blocks(parts, line_break):
    assert scan(line_break.join(parts)) == scan("\n".join(parts))


@FEW
@given(near_misses(), st.sampled_from(["x==1", "https://host/a.tar.gz#egg=a"]))
def test_near_misses_are_reported_and_never_hash_a_requirement(line, requirement):
    assume(model_hash_value(line) is None)  # a draw may spell a real hash line
    result = scan(f"{line}\n{requirement}\n")
    assert result.blocks == {} and result.orphans == []
    assert result.near_misses == [(1, line.strip())]


@FEW
@given(lines, st.sampled_from(LINE_BREAKS))
def test_logical_lines_match_pips_join_lines(parts, line_break):
    text = line_break.join(parts)
    pip = list(ignore_comments(join_lines(enumerate(text.splitlines(), start=1))))
    ours = [(ll.lineno, ll.text) for ll in logical_lines(text) if ll.text]
    assert ours == pip


@FEW
@given(st.text(alphabet=" \t\x1f\xa0#ab\\=", max_size=60))
def test_comment_pattern_finds_what_pips_finds(line):
    ours, pips = COMMENT_RE.search(line), PIP_COMMENT_RE.search(line)
    assert (ours and ours.span()) == (pips and pips.span())
    assert COMMENT_RE.sub("", line) == PIP_COMMENT_RE.sub("", line)


# -- plain tests: sizes hypothesis should not draw -------------------------------------


def test_ten_megabyte_file_scans_completely():
    # Per chunk: one requirement with two hashes, one orphan before an option.
    chunk = (f"# sha256: {H1}\n# a comment between\n\n# sha256: {H2}\r\n"
             "pkg-{n}==1.0 \\\n    --no-binary pkg-{n}\n"
             f"# sha256: {H3}\x0c-i https://example/simple\r")
    count = 10 * 1024 * 1024 // len(chunk) + 1
    text = "".join(chunk.replace("{n}", str(n)) for n in range(count))
    assert len(text) >= 10 * 1024 * 1024
    result = scan(text)
    assert len(result.blocks) == count
    assert sum(len(block) for block in result.blocks.values()) == 2 * count
    assert len(result.orphans) == count
    assert result.malformed == [] and result.near_misses == []
    assert len(logical_lines(text)) == 2 * count


def test_pathologically_long_lines_scan():
    # Long runs that would cost quadratic time with a backtracking pattern.
    n = 2_000_000
    text = "\n".join([
        "x" + " " * n + "y",
        "#" + " " * n + "x",
        "# sha256: " + "a" * n + " x",
        "# sha256: " + "a#" * (n // 2) + " x",
        "# sha256: " + H1 + " " * n,
        "Flask==0.9",
    ])
    result = scan(text)
    assert [lineno for lineno, _ in result.near_misses] == [3]
    assert [h.lineno for h in result.malformed] == [4]
    assert [h.value for h in result.hashes_for(6)] == ["a#" * (n // 2 - 1) + "a", H1]
    assert [ll.text for ll in logical_lines(text)] == ["x" + " " * n + "y", "Flask==0.9"]
