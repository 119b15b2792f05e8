"""Never weaker than pip: hooked pip against pip's own hash-checking mode.

Each case of a generated corpus of hostile inputs (tests/_support/corpus.py:
directories posing as archives, links and devices in find-links and
download directories, URL fragments of every algorithm, names
spelled differently and repeated, extras, markers, URL and path forms,
dependencies and build dependencies, nested requirements and constraints
files, direct references in the metadata of unhashed archives) runs twice
on the pip under test: unhooked, with ``--require-hashes`` and the hashes in
pip's form; hooked, with the same hashes as peep comments.

Wherever unhooked pip refuses, hooked pip must refuse too: exit 1, nothing
installed or saved, no code of any archive run. The only exceptions are the
cases in ALLOWED, each with its reason. A case may also carry peep-hook's own
policy, stricter than pip: refuse (a weak fragment, a directory nobody named,
a build dependency pip never checks) or accept (a control proving that the
case's set-up works at all). In every case, without exception, hooked pip
fetches nothing from outside the index, and shows the hash of no local file,
that pip alone does not.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from peep_hook.core.hashes import hex_to_peep
from tests._support.corpus import ELSEWHERE, Case, Scenario, World, corpus, materialise
from tests._support.venvs import Result, Venv

# Where hooked pip may accept what pip's --require-hashes refuses, and why.
# Never list a case here to get green: a case that is not a deliberate,
# documented difference is a hole.
ALLOWED = {
    "dirlink-user-named-path-line":
        "a source tree the user named on a path line is the user's own code, not "
        "something fetched (README, Your own source trees); pip cannot hash a directory",
    "dirlink-user-named-editable":
        "`-e ./project`: the user's own checkout, as above; pip refuses every editable "
        "in hash-checking mode",
    "deps-dependency-constraints-right":
        "a hash given in a constraints file counts on every pip (README, Dependencies); "
        "pip counts constraint-file hashes only from 26.1. The archive is still "
        "checked against that hash",
}

CORPUS = corpus()


@dataclass
class Outcome:
    result: Result
    installed: list[str]  # new entries in site-packages
    saved: list[str]  # files left in -d / -w
    ran: list[str]  # markers: whose archive code ran
    fetched: list[str]  # requests outside the index (corpus.ELSEWHERE)
    shown: list[str]  # local files (World.secrets) whose hash the output shows

    @property
    def refused(self) -> bool:
        """Refused as pip means it: a non-zero exit."""
        return self.result.returncode != 0

    @property
    def refused_cleanly(self) -> bool:
        """Refused as peep-hook must: exit 1, no traceback, nothing installed,
        nothing saved, no archive code run."""
        return (self.result.returncode == 1 and "Traceback" not in self.result.output
                and not self.installed and not self.saved and not self.ran)

    def __str__(self) -> str:
        def tail(text: str) -> str:
            return "\n".join(text.splitlines()[-25:])

        return (f"$ {' '.join(self.result.args)}\n-> exit {self.result.returncode}; "
                f"installed {self.installed}; saved {self.saved}; code ran {self.ran}; "
                f"fetched {self.fetched}; hash shown of {self.shown}\n"
                f"--- stdout (tail)\n{tail(self.result.stdout)}\n"
                f"--- stderr (tail)\n{tail(self.result.stderr)}\n")


def run_form(venv: Venv, form: str, world: World, scenario: Scenario) -> Outcome:
    """Run the scenario once, its files in ``form``; leave nothing behind
    for the other run."""
    directory = world.index.root / form
    args = materialise(scenario, form, directory, f"{world.index.base}/{form}")
    before = set(os.listdir(venv.site_packages))
    strict = ["--require-hashes"] if form == "pip" else []
    world.index.requested.clear()
    result = venv.pip(scenario.command, "--no-cache-dir", *strict, *args, cwd=world.root)
    out = world.root / "out"
    outcome = Outcome(
        result,
        installed=sorted(set(os.listdir(venv.site_packages)) - before),
        saved=sorted(os.listdir(out)) if out.is_dir() else [],
        ran=sorted(os.listdir(world.markers)),
        fetched=[path for path in world.index.requested if path.startswith(ELSEWHERE)],
        shown=[secret.name for secret in world.secrets if _hash_shown(secret, result)],
    )
    shutil.rmtree(out, ignore_errors=True)
    for marker in world.markers.iterdir():
        marker.unlink()
    venv.reset()
    return outcome


def _hash_shown(path: Path, result: Result) -> bool:
    hex_digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return hex_digest in result.output or hex_to_peep(hex_digest) in result.output


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_hooked_pip_refuses_whatever_pip_refuses(case: Case, venv: Venv, plain_venv: Venv,
                                                 index, markers: Path, tmp_path: Path):
    world = World(tmp_path / "case", index, markers)
    scenario = case.build(world)

    pip_alone = run_form(plain_venv, "pip", world, scenario)
    hooked = run_form(venv, "peep", world, scenario)

    report = (f"case {case.id}\n=== unhooked pip --require-hashes\n{pip_alone}"
              f"=== hooked pip, peep comments\n{hooked}")
    assert "Traceback" not in hooked.result.output, report
    if case.hooked == "accept":  # a control: the scenario works when all is hashed right
        assert not pip_alone.refused and not hooked.refused, report
    if case.pip_refuses_on_hashes:  # the scenario reached pip's hash checking
        assert pip_alone.refused and "hash" in pip_alone.result.stderr.lower(), report
    if case.pip_follows:  # the scenario sees a fetch from outside the index, a file shown
        assert pip_alone.fetched or pip_alone.shown, report
    assert set(hooked.fetched) <= set(pip_alone.fetched), (
        "hooked pip fetched from outside the index what pip alone did not\n" + report)
    assert set(hooked.shown) <= set(pip_alone.shown), (
        "hooked pip showed the hash of a local file that pip alone did not\n" + report)
    if case.id in ALLOWED:
        return
    if pip_alone.refused:
        assert hooked.refused_cleanly, ("pip refuses this: hooked pip must refuse it too "
                                        "(exit 1, nothing installed, no archive code run)\n"
                                        + report)
    if case.hooked == "refuse":
        assert hooked.refused_cleanly, f"peep-hook must refuse: {case.why}\n" + report


def test_allow_list_names_cases_of_the_corpus():
    assert set(ALLOWED) <= {case.id for case in CORPUS}
