"""Run the whole suite on every Python x pip pair, remembering what passed.

The matrix (tox label ``full``, 60 pairs) takes about seven hours on two cores:
more than one sitting. So each pair's result goes into a ledger
(``scripts/matrix-ledger.tsv``, committed) together with a digest of
everything that decides the tests' outcome: peep_hook/, tests/, setup.py,
setup.cfg, pyproject.toml and tox.ini, as they are in the working tree. A later
run skips the pairs that already passed with the same digest, so the matrix
can be finished over several sittings; any change to the code or the tests
changes the digest and starts it over. README, benchmarks and scripts are
not in the digest.

Run it through ``bash scripts/test.sh matrix [options]``, which installs tox
and finds the interpreters first. ``--table`` prints the README table for the
current digest without running anything.
"""

from __future__ import annotations

import argparse
import configparser
import datetime
import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "scripts" / "matrix-ledger.tsv"
DIGESTED = ("peep_hook", "tests", "setup.py", "setup.cfg", "pyproject.toml", "tox.ini")
PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
FIELDS = ("finished", "digest", "env", "python", "outcome", "summary", "seconds")


class Entry(NamedTuple):
    finished: str
    digest: str
    env: str
    python: str  # the patch release pytest reported, e.g. 3.8.20
    outcome: str  # "passed" or "failed"
    summary: str  # pytest's last line, e.g. "540 passed in 428.11s"
    seconds: str


def digest() -> str:
    """SHA-256 over the paths and bytes of the files that decide the outcome,
    tracked or not (pytest collects an untracked test file too)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *DIGESTED],
        cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    h = hashlib.sha256()
    for name in sorted({n for n in listed if n}):
        path = ROOT / os.fsdecode(name)
        if path.is_file():  # a tracked file deleted in the working tree is gone
            h.update(name + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _expand(pattern: str) -> list[str]:
    """tox's factor braces: ``py38-pip-{20.3.4,24.0}`` -> two names."""
    found = re.search(r"\{([^{}]*)\}", pattern)
    if not found:
        return [pattern]
    head, tail = pattern[:found.start()], pattern[found.end():]
    return [name for choice in found.group(1).split(",")
            for name in _expand(head + choice.strip() + tail)]


def pairs() -> list[str]:
    """The tox environments of the label ``full``, in tox.ini's order."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini")
    label = config["tox"]["labels"]
    line = next(v for v in label.splitlines() if v.strip().startswith("full"))
    patterns = re.findall(r"[^,\s{]+(?:\{[^}]*\}[^,\s{]*)*", line.split("=", 1)[1])
    return [name for p in patterns for name in _expand(p)]


def python_and_pip(env: str) -> tuple[str, str]:
    found = re.fullmatch(r"(?:py3(\d+)-)?pip-([\d.]+)", env)
    if not found:
        raise ValueError(f"not a Python x pip environment: {env}")
    return f"3.{found.group(1) or 11}", found.group(2)


def _pip_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def corners_first(envs: list[str]) -> list[str]:
    """Each Python's newest pip, then its oldest, then the rest: a sitting that
    ends early has still covered both ends of every Python's range."""
    by_python: dict[str, list[str]] = {}
    for env in envs:
        by_python.setdefault(python_and_pip(env)[0], []).append(env)
    for group in by_python.values():
        group.sort(key=lambda e: _pip_key(python_and_pip(e)[1]))
    newest = [g[-1] for g in by_python.values()]
    oldest = [g[0] for g in by_python.values() if g[0] not in newest]
    return newest + oldest + [e for e in envs if e not in newest and e not in oldest]


def read_ledger() -> list[Entry]:
    if not LEDGER.exists():
        return []
    rows = [line.split("\t") for line in LEDGER.read_text().splitlines()[1:] if line]
    return [Entry(*row) for row in rows]


_LEDGER_LOCK = threading.Lock()


def _append(entry: Entry) -> None:
    new = not LEDGER.exists()
    with _LEDGER_LOCK, open(LEDGER, "a") as ledger:
        if new:
            ledger.write("\t".join(FIELDS) + "\n")
        ledger.write("\t".join(entry) + "\n")


def latest(entries: list[Entry], current: str) -> dict[str, Entry]:
    """The last result of each pair for the current digest."""
    return {e.env: e for e in entries if e.digest == current}


def run_pair(env: str, tox: str, workdir: str | None, logs: Path, current: str) -> Entry:
    log = logs / f"{env}.log"
    command = [tox, "-e", env] + (["--workdir", workdir] if workdir else [])
    started = time.monotonic()
    with open(log, "w") as out:
        returncode = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL).returncode
    seconds = time.monotonic() - started
    text = log.read_text(errors="replace")
    python = re.findall(r"platform \S+ -- Python (\S+?),", text)
    summary = re.findall(r"^=+ (.*\bin [\d.]+s.*?) =+$", text, re.MULTILINE)
    passed = returncode == 0 and bool(summary) and "failed" not in summary[-1]
    return Entry(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 current, env, python[-1] if python else "?",
                 "passed" if passed else "failed",
                 summary[-1] if summary else f"tox exited {returncode}, see {log}",
                 f"{seconds:.0f}")


def table(entries: list[Entry], current: str) -> str:
    """README's table: "all" where the whole suite passed with this digest."""
    results = latest(entries, current)
    cells: dict[tuple[str, str], str] = {}
    for env in pairs():
        result = results.get(env)
        cells[python_and_pip(env)] = ("all" if result and result.outcome == "passed"
                                      else "FAILED" if result else "not run")
    pips = sorted({pip for _, pip in cells}, key=_pip_key)
    rule = "  ".join(["========"] * (1 + len(PYTHONS)))
    lines = [rule, "  ".join([f"{'pip':<8}"] + [f"{p:<8}" for p in PYTHONS]).rstrip(), rule]
    for pip in pips:
        row = [f"{pip:<8}"] + [f"{cells.get((py, pip), chr(92) + '-'):<8}" for py in PYTHONS]
        lines.append("  ".join(row).rstrip())
    lines.append(rule)
    done = sum(c == "all" for c in cells.values())
    return "\n".join(lines) + f"\n\n{done} of {len(cells)} pairs, digest {current[:12]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tox", default=str(ROOT / ".venv-tools" / "bin" / "tox"))
    parser.add_argument("--workdir", help="tox's --workdir (keeps environments between runs)")
    parser.add_argument("--jobs", type=int, default=1, help="pairs run at once (default 1)")
    parser.add_argument("--stop-after", type=float, metavar="MINUTES",
                        help="start no pair after this many minutes")
    parser.add_argument("--table", action="store_true", help="print the table and exit")
    parser.add_argument("envs", nargs="*", help="only these pairs (default: all not yet passed)")
    args = parser.parse_args(argv)

    current = digest()
    if args.table:
        print(table(read_ledger(), current))
        return 0
    passed = {env for env, e in latest(read_ledger(), current).items() if e.outcome == "passed"}
    todo = [env for env in corners_first(args.envs or pairs()) if env not in passed]
    print(f"digest {current[:12]}: {len(passed)} pairs passed before, {len(todo)} to run",
          flush=True)
    logs = Path(args.workdir or ROOT / ".tox") / "matrix-logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def one(env: str) -> Entry | None:
        if args.stop_after is not None and time.monotonic() - started > args.stop_after * 60:
            return None
        entry = run_pair(env, args.tox, args.workdir, logs, current)
        if digest() != current:  # the tree changed under the run: the result means nothing
            print(f"{env}: not recorded, the files changed during the run", flush=True)
            return entry
        _append(entry)
        print(f"{env}: {entry.outcome} on Python {entry.python}: {entry.summary} "
              f"({entry.seconds} s)", flush=True)
        return entry

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, todo))
    print(table(read_ledger(), current))
    return 1 if any(r is not None and r.outcome != "passed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
