"""Linting requirements files for hash problems, without installing."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from peep_hook.commands.check import Finding, check, parse_requirement, read_requirements_file
from peep_hook.core.hashes import peep_to_hex

DATA = Path(__file__).parent / "data" / "peep-files"
H1 = "L9XU_-gfdi3So-WEctaQoNu6N2Z3ZQYAOu4-16qor-8"
H2 = "irsvHYaJCi37mJ-ad8_P0-R8KjVLAREXcTJviqJuAlQ"
X1 = peep_to_hex(H1)


def lint(tmp_path: Path, text: str, others: dict[str, str] | None = None) -> list[str]:
    """Findings for text as requirements.txt, with other files beside it."""
    for name, content in (others or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    main = tmp_path / "requirements.txt"
    main.write_text(text)
    return [str(f).replace(str(tmp_path) + "/", "") for f in check([str(main)]).findings]


# -- the real files -----------------------------------------------------------------


@pytest.mark.parametrize("name, requirements", [
    ("kitsune-default.txt", 94), ("airmozilla-requirements.txt", 71),
])
def test_real_peep_files_are_clean(name, requirements):
    report = check([str(DATA / name)])
    assert report.findings == []
    assert report.requirements == requirements
    assert report.summary() == f"peep-hook check: 1 file, {requirements} requirements, no problems"


def test_requirements_shared_by_two_real_files_are_duplicates():
    report = check([str(DATA / "kitsune-default.txt"), str(DATA / "airmozilla-requirements.txt")])
    django = [str(f) for f in report.findings if "Django " in str(f)]
    assert django == [f"{DATA}/airmozilla-requirements.txt:30: Django is listed twice "
                      f"(also at {DATA}/kitsune-default.txt:96)"]


# -- hashes ----------------------------------------------------------------------------


def test_requirement_without_any_hash_is_reported(tmp_path):
    assert lint(tmp_path, f"# sha256: {H1}\na==1\nb==1\n") == [
        "requirements.txt:3: b has no hash"]


def test_pip_hash_option_counts_as_a_hash_even_on_a_continuation_line(tmp_path):
    assert lint(tmp_path, f"a==1 --hash=sha256:{X1}\nb==1 \\\n    --hash=sha256:{X1}\n") == []


def test_hash_on_the_requirement_line_is_reported_with_a_hint(tmp_path):
    [finding] = lint(tmp_path, f"a==1  # sha256: {H1}\n")
    assert finding.startswith("requirements.txt:1: a has no hash (a hash on the requirement's")


def test_hash_option_inside_a_comment_does_not_count(tmp_path):
    assert lint(tmp_path, f"a==1  # --hash=sha256:{X1}\n") == ["requirements.txt:1: a has no hash"]


def test_malformed_peep_value_is_reported_once_with_its_line(tmp_path):
    [finding] = lint(tmp_path, f"# sha256: {H1[:-1]}\na==1\n")
    assert finding.startswith("requirements.txt:1: malformed hash: ")
    assert "42 characters" in finding


@pytest.mark.parametrize("option, why", [
    (f"--hash=sha256:{X1[:-1]}", "is not 64 hex digits"),
    (f"--hash=sha256:{X1[:-1]}g", "is not 64 hex digits"),
    (f"--hash=md5:{X1[:32]}", "does not name one of sha256, sha384, sha512"),
    (f"--hash=SHA256:{X1}", "does not name one of"),
])
def test_malformed_hash_option_is_reported(tmp_path, option, why):
    [finding] = lint(tmp_path, f"a==1 {option}\n")
    assert finding.startswith("requirements.txt:1: malformed hash: --hash=")
    assert why in finding


@pytest.mark.parametrize("line", [
    f"#sha256: {H1}", f"# SHA256: {H1}", f"# sha256:{H1}", f"# sha-256: {H1}",
    f"# sha512: {H1}",
])
def test_lines_that_look_like_hashes_but_are_not_are_reported(tmp_path, line):
    assert lint(tmp_path, f"{line}\n# sha256: {H2}\na==1\n") == [
        f"requirements.txt:1: looks like a hash line but is not one "
        f"(peep reads '# sha256: <value>'): {line}"]


@pytest.mark.parametrize("text, orphan_line", [
    (f"# sha256: {H1}\n-i https://example/simple\n# sha256: {H2}\na==1\n", 1),
    (f"# sha256: {H1}\na==1\n# sha256: {H2}\n", 3),
])
def test_hash_attached_to_nothing_is_reported(tmp_path, text, orphan_line):
    assert lint(tmp_path, text) == [
        f"requirements.txt:{orphan_line}: hash belongs to no requirement "
        "(an option line or the end of the file follows it)"]


def test_hash_block_pip_would_read_as_an_option_is_reported(tmp_path):
    # A lone backslash joins the option to it: pip sees '-i ...' on line 2.
    text = f"# sha256: {H1}\n\\\n-i https://example/simple\n"
    assert lint(tmp_path, text) == ["requirements.txt:2: the hashes above belong to no requirement"]


def test_editable_requirement_cannot_be_hash_checked(tmp_path):
    assert lint(tmp_path, f"# sha256: {H1}\n-e ./src#egg=mine\n") == [
        "requirements.txt:2: mine is editable, which pip cannot hash-check"]


# -- pins and duplicates -------------------------------------------------------------------


@pytest.mark.parametrize("requirement", [
    "a", "a>=1", "a~=1.0", "a==1.0,<2", "a!=1", "a<=1", "a [x] >= 1 ; python_version<'3'",
    "a==1.*", "a == 1.0.*",
])
def test_unpinned_requirements_are_reported(tmp_path, requirement):
    assert lint(tmp_path, f"# sha256: {H1}\n{requirement}\n") == [
        "requirements.txt:2: a is not pinned with == or ==="]


@pytest.mark.parametrize("requirement", [
    "a==1.0", "a===1.0-local", "a (==1.0)", "a[x,y]==1.0", "a==1.0;python_version<'3'",
    "a == 1.0 ; sys_platform == 'win32'", "https://host/a-1.0.tar.gz#egg=a",
    "https://host/archive/abc.tar.gz", "./vendor/a-1.0.tar.gz", "a-1.0-py3-none-any.whl",
    "a @ https://host/a-1.0.tar.gz", "git+https://host/a.git@v1#egg=a",
])
def test_pinned_url_and_path_requirements_are_accepted(tmp_path, requirement):
    assert lint(tmp_path, f"# sha256: {H1}\n{requirement}\n") == []


def test_duplicate_names_are_compared_pep_503_normalized(tmp_path):
    text = (f"# sha256: {H1}\nFoo_Bar==1\n# sha256: {H1}\nfoo.bar==2\n"
            f"# sha256: {H1}\nhttps://h/x.tar.gz#egg=FOO-bar\n")
    assert lint(tmp_path, text) == [
        "requirements.txt:4: foo.bar is listed twice (also at requirements.txt:2)",
        "requirements.txt:6: FOO-bar is listed twice (also at requirements.txt:2)",
    ]


def test_one_pin_per_environment_is_not_a_duplicate(tmp_path):
    text = (f"# sha256: {H1}\na==1 ; python_version < '3'\n"
            f"# sha256: {H2}\na==2 ; python_version >= '3'\n")
    assert lint(tmp_path, text) == []


def test_marker_on_only_one_of_two_lines_is_still_a_duplicate(tmp_path):
    text = f"# sha256: {H1}\na==1 ; python_version < '3'\n# sha256: {H2}\na==2\n"
    assert lint(tmp_path, text) == [
        "requirements.txt:4: a is listed twice (also at requirements.txt:2)"]


# -- nested files ----------------------------------------------------------------------------


def test_nested_files_are_read_relative_to_the_including_file(tmp_path):
    findings = lint(tmp_path, "-r reqs/base.txt\n", {
        "reqs/base.txt": "-r ../common.txt\nbase==1\n", "common.txt": "common==1\n",
    })
    assert findings == [
        "reqs/base.txt:2: base has no hash",
        "common.txt:1: common has no hash",
    ]


@pytest.mark.parametrize("include", [
    "-r other.txt", "-rother.txt", "--requirement other.txt", "--requirement=other.txt",
    "-r 'other.txt'",
])
def test_every_spelling_of_an_include_is_followed(tmp_path, include):
    assert lint(tmp_path, f"{include}\n", {"other.txt": "x==1\n"}) == [
        "other.txt:1: x has no hash"]


def test_of_several_includes_on_one_line_the_one_pip_follows_is_followed(tmp_path):
    # pip's _parse_and_recurse: the first -r, else the first -c.
    assert lint(tmp_path, "-c two.txt --requirement=one.txt -r three.txt\n", {
        "one.txt": "x==1\n", "two.txt": "y==1\n", "three.txt": "z==1\n",
    }) == ["one.txt:1: x has no hash"]
    assert lint(tmp_path, "-c two.txt -c three.txt\n", {
        "two.txt": "-r one.txt\n", "three.txt": "-r four.txt\n", "four.txt": "z==1\n",
    }) == ["one.txt:1: x has no hash"]


def test_duplicates_across_included_files_name_both_places(tmp_path):
    findings = lint(tmp_path, f"# sha256: {H1}\na==1\n-r other.txt\n",
                    {"other.txt": f"# sha256: {H1}\nA==1\n"})
    assert findings == ["other.txt:2: A is listed twice (also at requirements.txt:2)"]


def test_constraints_need_no_hash_or_pin_and_are_not_duplicates(tmp_path):
    [finding] = lint(tmp_path, f"-c constraints.txt\n# sha256: {H1}\na==1\n",
                     {"constraints.txt": f"a==1\nb>=2\n# sha256: {H1[:-1]}\nc==1\n"})
    assert finding.startswith("constraints.txt:3: malformed hash: ")  # still checked


def test_requirements_nested_in_a_constraints_file_are_requirements(tmp_path):
    # As in pip: the option, not the including file, says which kind a file is.
    findings = lint(tmp_path, "--constraint=c.txt\n",
                    {"c.txt": "-r r.txt\n", "r.txt": "x==1\n"})
    assert findings == ["r.txt:1: x has no hash"]


def test_include_cycle_is_reported_and_not_followed(tmp_path):
    findings = lint(tmp_path, "-r a.txt\n", {"a.txt": "-r b.txt\n", "b.txt": "-r a.txt\n"})
    assert findings == ["b.txt:1: include cycle (a.txt -> b.txt -> a.txt); not followed"]


def test_file_including_itself_is_a_cycle(tmp_path):
    assert lint(tmp_path, "-r requirements.txt\n") == [
        "requirements.txt:1: include cycle (requirements.txt -> requirements.txt); not followed"]


def test_file_included_twice_is_checked_once(tmp_path):
    findings = lint(tmp_path, "-r a.txt\n-r b.txt\n",
                    {"a.txt": "-r common.txt\n", "b.txt": "-r common.txt\n",
                     "common.txt": f"# sha256: {H1}\nx==1\n"})
    assert findings == []


def test_missing_include_is_reported_at_the_include_line(tmp_path):
    [finding] = lint(tmp_path, "x==1 --hash=sha256:" + X1 + "\n-r missing.txt\n")
    assert finding.startswith("requirements.txt:2: cannot read missing.txt: ")


def test_remote_include_is_noted_not_followed(tmp_path):
    main = tmp_path / "requirements.txt"
    main.write_text("-r https://example/requirements.txt\n")
    report = check([str(main)])
    assert report.findings == []
    assert [(f.lineno, f.message) for f in report.notes] == [
        (1, "not following https://example/requirements.txt (only local files are checked)")]


def test_unreadable_file_is_a_finding(tmp_path):
    report = check([str(tmp_path / "nope.txt")])
    assert [str(f) for f in report.findings] == [
        f"{tmp_path}/nope.txt: cannot read: No such file or directory"]
    assert report.files == []


def test_findings_come_in_file_then_line_order(tmp_path):
    findings = lint(tmp_path, "b==1\n-r other.txt\na==1\n", {"other.txt": "c==1\n"})
    assert findings == ["requirements.txt:1: b has no hash", "requirements.txt:3: a has no hash",
                        "other.txt:1: c has no hash"]


def test_summary_counts_files_requirements_and_problems(tmp_path):
    (tmp_path / "other.txt").write_text("c==1\n")
    main = tmp_path / "requirements.txt"
    main.write_text(f"# sha256: {H1}\nb==1\n-r other.txt\n")
    assert check([str(main)]).summary() == "peep-hook check: 2 files, 2 requirements, 1 problem"


# -- reading lines the way pip does -----------------------------------------------------------


def test_continued_requirement_is_one_requirement_at_its_first_line(tmp_path):
    text = f"a==1 \\\n    --config-settings x=y \\\n    --hash=sha256:{X1}\nb==1\n"
    assert lint(tmp_path, text) == ["requirements.txt:4: b has no hash"]


def test_comment_line_ends_a_continuation(tmp_path):
    text = f"a==1 \\\n# sha256: {H1}\nb==1\n"
    assert lint(tmp_path, text) == ["requirements.txt:1: a has no hash"]


def test_unreadable_requirement_is_reported(tmp_path):
    assert lint(tmp_path, "===\n") == ["requirements.txt:1: cannot read a requirement from '==='"]


@pytest.mark.parametrize("line, key, pinned, direct", [
    ("Foo.Bar_baz==1", "foo-bar-baz", True, False),
    ("https://h/x/archive/abc.tar.gz#egg=cache-panel", "cache-panel", False, True),
    ("https://h/x.tar.gz#egg=bleach==1.2.1", "bleach", False, True),
    ("https://h/x.tar.gz", None, False, True),
    ("-e git+https://h/x.git#egg=x", "x", False, True),
    ("x==1 --hash=sha256:abc", "x", True, False),
    ("x ; python_version=='2' --hash=sha256:abc", "x", False, False),
])
def test_requirement_names_and_pins_are_read_without_pip(line, key, pinned, direct):
    req = parse_requirement(line)
    assert (req.key, req.pinned, req.direct) == (key, pinned, direct)


# -- decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bom, encoding", [
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
])
def test_byte_order_mark_names_the_encoding(tmp_path, bom, encoding):
    path = tmp_path / "r.txt"
    path.write_bytes(bom + "é==1\n".encode(encoding))
    assert read_requirements_file(str(path)) == "é==1\n"


def test_undecodable_file_is_refused(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(b"a==1\n\xff\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_requirements_file(str(path))


def test_finding_without_a_line_names_only_the_file():
    assert str(Finding("r.txt", 0, "cannot read: gone")) == "r.txt: cannot read: gone"
