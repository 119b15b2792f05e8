"""The benchmarks' harness: children timed with their own rusage, variants
alternated round by round, the statistics of a side-by-side comparison, the
plans (rounds per benchmark), and peep-hook built from the working tree or a
git ref."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from tests._support.venvs import clean_env

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FILES = ("peep_hook", "setup.py", "setup.cfg", "pyproject.toml", "README.rst", "LICENSE")
MIN_SETUPTOOLS = (70, 1)
MB = 1_000_000  # memory is reported in MB of 10**6 bytes


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Sample:
    seconds: float
    maxrss: int  # bytes: peak RSS of the child (and of any children it waited for)
    returncode: int
    output: str
    cpu: float = 0.0  # seconds of user + system CPU time of the child (and its children)


def measure(args: Sequence[os.PathLike | str], *, env: dict | None = None,
            cwd: Path | None = None, timeout: float = 900, expect: int | None = 0) -> Sample:
    """Run a child with the clean environment; time it and take its own rusage."""
    argv = [str(a) for a in args]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=clean_env(env), cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    sample = Sample(elapsed, usage.ru_maxrss * 1024, proc.returncode, output,
                    usage.ru_utime + usage.ru_stime)
    if expect is not None and sample.returncode != expect:
        raise BenchError(f"$ {' '.join(argv)}\n-> exit {sample.returncode} "
                         f"(expected {expect})\n{output[-4000:]}")
    return sample


def alternate(variants: Sequence[tuple[str, Callable[[], Sample]]], rounds: int, *,
              warmup: int = 0, after: Callable[[str], None] | None = None,
              what: str = "") -> dict[str, list[Sample]]:
    """Run the variants in turn, rotating the order every round (AB, BA, ...)."""
    results: dict[str, list[Sample]] = {name: [] for name, _ in variants}
    total = warmup + rounds
    for r in range(total):
        k = r % len(variants)
        for name, fn in list(variants[k:]) + list(variants[:k]):
            sample = fn()
            if after is not None:
                after(name)
            if r >= warmup:
                results[name].append(sample)
        if what and (total <= 10 or (r + 1) % max(1, total // 5) == 0 or r + 1 == total):
            log(f"    {what}: round {r + 1}/{total}")
    return results


def instructions(python: Path, runs: int = 3) -> int:
    """Median instructions executed by ``python -c pass``, counted by callgrind:
    deterministic enough to compare on a busy machine, where times are not."""
    return int(statistics.median(instructions_of([python, "-c", "pass"]) for _ in range(runs)))


def instructions_of(argv: Sequence[os.PathLike | str], timeout: float = 300) -> int:
    """Instructions one run of ``argv`` executes (its own process), by callgrind."""
    out = measure(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                  env={"PYTHONHASHSEED": "0"}, timeout=timeout).output
    found = re.search(r"Collected : (\d+)", out)
    if found is None:
        raise BenchError("no instruction count from callgrind:\n" + out[-2000:])
    return int(found.group(1))


@dataclass
class Series:
    label: str
    values: list[float]
    unit: str

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def quartiles(self) -> tuple[float, float]:
        if len(self.values) < 2:
            return self.values[0], self.values[0]
        q1, _, q3 = statistics.quantiles(self.values, n=4, method="inclusive")
        return q1, q3


@dataclass
class Row:
    name: str
    a: Series | None
    b: Series | None
    goal: str
    met: bool | None  # None: for information only
    ratio: float | None = None
    paired: tuple[float, float] | None = None  # IQR of per-round A/B ratios
    min_ratio: float | None = None  # A/B of the fastest runs: the least disturbed
    a_text: str | None = None  # shown instead of A's median
    note: str = ""
    cpu_ratio: float | None = None  # A/B of median CPU times (user + system)


def paired_row(name: str, a: Series, b: Series, *, goal_ratio: float | None,
               goal: str | None = None, note: str = "",
               cpu: tuple[list[Sample], list[Sample]] | None = None) -> Row:
    ratio = a.median / b.median
    per_round = [x / y for x, y in zip(a.values, b.values)]
    paired = Series("A/B", per_round, "").quartiles
    met = None if goal_ratio is None else ratio <= goal_ratio
    if goal is None:
        goal = "info" if goal_ratio is None else f"A/B <= {goal_ratio:.2f}"
    row = Row(name, a, b, goal, met, ratio, paired, note=note,
              min_ratio=min(a.values) / min(b.values))
    if cpu is not None:
        row.cpu_ratio = (statistics.median(s.cpu for s in cpu[0])
                         / statistics.median(s.cpu for s in cpu[1]))
    return row


def ms(samples: list[Sample], label: str) -> Series:
    return Series(label, [s.seconds * 1000 for s in samples], "ms")


@dataclass
class Plan:
    startup_rounds: int
    importtime_runs: int
    pip_rounds: int
    install_rounds: int
    install_warmup: int
    large_rounds: int
    large_warmup: int
    large_mb: int
    scale_sizes: tuple[int, ...]
    scale_reps: dict[int, int]
    parse_rounds: int
    parse_size: int
    realworld_rounds: int
    n_small: int = 50


FULL = Plan(startup_rounds=100, importtime_runs=15, pip_rounds=40, install_rounds=15,
            install_warmup=1, large_rounds=15, large_warmup=1, large_mb=200,
            scale_sizes=(1_000, 10_000, 100_000),
            scale_reps={1_000: 60, 10_000: 20, 100_000: 5}, parse_rounds=7, parse_size=10_000,
            realworld_rounds=8)

QUICK = Plan(startup_rounds=12, importtime_runs=5, pip_rounds=6, install_rounds=2,
             install_warmup=0, large_rounds=2, large_warmup=0, large_mb=50,
             scale_sizes=(1_000, 10_000), scale_reps={1_000: 15, 10_000: 5},
             parse_rounds=2, parse_size=10_000, realworld_rounds=1)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def tool_python(tmp: Path) -> Path:
    """An interpreter with pip and setuptools>=70.1, to download and build with."""
    try:
        ok = (version_tuple(importlib.metadata.version("setuptools")) >= MIN_SETUPTOOLS
              and importlib.util.find_spec("pip") is not None)
    except Exception:
        ok = False
    if ok:
        return Path(sys.executable)
    log("  this Python lacks setuptools>=70.1 (or pip): making a private build venv (network)")
    venv = tmp / "build-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    measure([python, "-m", "pip", "install", "-q", "setuptools>=70.1"],
            env={"PEEP_HOOK": "off"}, timeout=600)
    return python


def copy_source(tmp: Path, ref: str | None) -> Path:
    """peep-hook's source, from the working tree or from git ``ref``."""
    source = tmp / "source"
    source.mkdir()
    if ref is None:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for name in SOURCE_FILES:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, source / name, ignore=ignore)
            else:
                shutil.copy2(ROOT / name, source / name)
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref,
                                  *SOURCE_FILES], capture_output=True)
        if archive.returncode != 0:
            raise BenchError(f"git archive {ref}: {archive.stderr.decode(errors='replace')}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tf:
            tf.extractall(source)
    return source


def build_hook_wheel(tmp: Path, python: Path, source: Path) -> Path:
    out = tmp / "dist"
    measure([python, "-m", "pip", "wheel", "--no-deps", "--no-index", "--no-build-isolation",
             "-q", "-w", out, source], env={"PEEP_HOOK": "off"}, timeout=600)
    return next(out.glob("peep_hook-*.whl"))


def source_description(ref: str | None) -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                                  text=True).stdout.strip()
        except OSError:
            return "?"

    if ref is not None:
        return f"git {ref} ({git('rev-parse', '--short', ref)})"
    dirty = git("status", "--porcelain", "--", *SOURCE_FILES)
    text = f"working tree at {git('rev-parse', '--short', 'HEAD')}"
    if dirty:
        text += f", with uncommitted changes to {len(dirty.splitlines())} of its files"
    return text
