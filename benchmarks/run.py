#!/usr/bin/env python3
"""peep-hook benchmarks (issue 6): what the hook costs, hooked vs unhooked.

Run from the repository root, with a Python that has setuptools>=70.1 (it
builds peep-hook's wheel from this checkout without network), for example the
tox environment's interpreter::

    .tox/pip-26.3/bin/python benchmarks/run.py            # full run, ~15 min
    .tox/pip-26.3/bin/python benchmarks/run.py --quick    # smoke run, ~1 min
    python3 benchmarks/run.py --only startup,pip-startup

With an older setuptools (or none) the script makes a private build venv in
its temporary directory and installs setuptools>=70.1 into it (network).
Set-up also downloads the pip under test and wrapt from PyPI (network) unless
``--wheelhouse DIR`` names a directory that already holds both, and the
real-world benchmark's 43 archives unless its cache holds them. Everything
else is local: the archives are built here and served from a PEP 503 index on
127.0.0.1, and pip runs with ``tests._support.venvs.clean_env`` (no PIP_*
variables from outside, PIP_CONFIG_FILE=/dev/null).

Every comparison runs the hooked variant (A) and the unhooked one (B) in the
same run, alternating (the order rotates each round), and reports medians,
inter-quartile ranges, min/max, and the A/B ratio of medians together with the
IQR of the per-round A/B ratios, the A/B ratio of the fastest runs and of the
median CPU times (the last two help on a shared, noisy machine). The full run
writes the table, as reStructuredText, to benchmarks/last-run.rst
(``--quick``/``--only`` runs write it only when ``--rst PATH`` is given).

peep-hook is built from the working tree as it is, or with ``--ref REF`` from
a git commit (``--ref HEAD`` leaves out uncommitted edits).

Benchmarks (``--only`` names):

startup       ``python -c pass``, hooked venv vs unhooked venv (and, with valgrind,
              the instructions each executes)
startup-global ``python -c pass`` in a private copy of the base interpreter with
              the global hook enabled (its sitecustomize) vs a copy without
importtime    ``python -X importtime -c pass`` in the hooked venv: no wrapt, no
              pip, and the microseconds peep_hook's modules take
pip-startup   ``pip --version`` and ``pip install --help``
install       ``pip install -r`` of 50 small wheels: peep comments (hooked) vs
              native ``--hash=sha256:`` (unhooked), and unhooked with no hashes
realworld     ``pip install -r`` of 43 real archives from PyPI (38 wheels, 5 sdists
              built from source; benchmarks/realworld.py), downloaded once into a
              cache (``--realworld-cache``), served from 127.0.0.1: hooked peep
              vs unhooked ``--hash``; then ``verify --deep --archives DIR`` (those
              archives) vs plain ``verify`` over the environment the hook installed
large         ``pip install -r`` of one 200 MB wheel (stored random data), with
              one hash and with three stacked hashes (two of other archives)
memory        peak RSS of those large installs (each pip its own child; the
              numbers come from wait4(2) of that child)
scale         peep_hook.reqfile.scan, then every block read as the hook reads
              them, on 1,000 / 10,000 / 100,000 requirements with 3 stacked
              hashes each, in-process; and pip's parse_requirements of 10,000,
              hooked vs unhooked, in a child
verify        ``peep-hook verify -r`` of an environment of 100 distributions and
              300 MB installed (10,000 small modules and 100 data files; page cache
              warm after the first run); then ``verify --deep --archives DIR`` (the
              same wheels and pip's, wrapt's and peep-hook's in a local directory)
              vs plain ``verify`` over that environment, alternating

Only with ``--only`` (not part of a full run):

startup-pythons  ``python -c pass`` on every CPython 3.8-3.13 found (python3.N on
              PATH, else the newest pyenv 3.N.x): in a ``python -m venv`` venv
              with peep-hook (A), without (B), and without but with a ``.pth``
              file holding only a comment (C), alternating; C separates what any
              ``.pth`` costs on that Python (3.13 decodes them as utf-8-sig,
              importing encodings.utf_8_sig; an empty file is not decoded) from
              what peep-hook's own start-up costs. With valgrind installed, also
              the instructions each start executes (callgrind; load-independent)
"""

from __future__ import annotations

import argparse
import base64
import datetime
import gc
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import realworld  # noqa: E402
from tests._support import archives  # noqa: E402
from tests._support.index import Index, canonical  # noqa: E402
from tests._support.interpreters import copy_base_interpreter  # noqa: E402
from tests._support.venvs import Venv, clean_env  # noqa: E402

BENCHMARKS = ("startup", "startup-global", "importtime", "pip-startup", "install", "realworld",
              "large", "memory", "scale", "verify")
OPTIONAL = ("startup-pythons",)  # run only when named with --only
SOURCE_FILES = ("peep_hook", "setup.py", "setup.cfg", "pyproject.toml", "README.rst", "LICENSE")
MIN_SETUPTOOLS = (70, 1)
DEFAULT_RST = ROOT / "benchmarks" / "last-run.rst"
MB = 1_000_000  # memory is reported in MB of 10**6 bytes
WRAPT = "wrapt>=1.14,<2.2"  # as setup.cfg requires


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- running children ------------------------------------------------------------


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


# -- statistics and the table -------------------------------------------------------


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


def fmt(value: float, unit: str = "") -> str:
    mag = abs(value)
    if mag >= 100:
        text = f"{value:,.0f}"
    elif mag >= 10:
        text = f"{value:.1f}"
    elif mag >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip()


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


HEADERS = ("benchmark", "A median", "B median", "spread: IQR A; IQR B",
           "A/B", "A/B per round (IQR)", "A/B of min", "CPU A/B", "goal", "met?")


def row_cells(row: Row) -> list[str]:
    def median(s: Series | None, override: str | None = None) -> str:
        if override is not None:
            return override
        return "-" if s is None else fmt(s.median, s.unit)

    def iqr(s: Series | None) -> str:
        if s is None:
            return "-"
        q1, q3 = s.quartiles
        return f"{fmt(q1)}-{fmt(q3, s.unit)}"

    spread = iqr(row.a) if row.b is None else f"{iqr(row.a)}; {iqr(row.b)}"
    met = "info" if row.met is None else ("yes" if row.met else "NO")
    return [
        row.name,
        median(row.a, row.a_text),
        median(row.b),
        spread,
        "-" if row.ratio is None else f"{row.ratio:.3f}",
        "-" if row.paired is None else f"{row.paired[0]:.3f}-{row.paired[1]:.3f}",
        "-" if row.min_ratio is None else f"{row.min_ratio:.3f}",
        "-" if row.cpu_ratio is None else f"{row.cpu_ratio:.3f}",
        row.goal,
        met,
    ]


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def rst_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    sep = lambda ch: "+" + "+".join(ch * (w + 2) for w in widths) + "+"  # noqa: E731
    line = lambda cells: "|" + "|".join(f" {c.ljust(w)} " for c, w in zip(cells, widths)) + "|"  # noqa: E731
    out = [sep("-"), line(headers), sep("=")]
    for r in rows:
        out += [line(r), sep("-")]
    return "\n".join(out)


# -- fixtures -----------------------------------------------------------------------


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


def make_wheelhouse(tmp: Path, python: Path, pip_version: str, given: Path | None) -> Path:
    def complete(d: Path) -> bool:
        return any(d.glob(f"pip-{pip_version}-*.whl")) and any(d.glob("wrapt-*.whl"))

    if given is not None:
        if not complete(given):
            raise BenchError(f"{given} lacks pip-{pip_version}-*.whl or wrapt-*.whl")
        return given
    wheelhouse = tmp / "wheelhouse"
    log(f"  downloading pip=={pip_version} and wrapt (network)")
    # The env of set-up commands also switches peep-hook off, in case the
    # interpreter running this script has it installed.
    measure([python, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             f"pip=={pip_version}", WRAPT, "-d", wheelhouse],
            env={"PEEP_HOOK": "off"}, timeout=600)
    if not complete(wheelhouse):
        raise BenchError(f"download did not produce pip-{pip_version} and wrapt in {wheelhouse}")
    return wheelhouse


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


def write_big_wheel(directory: Path, name: str, version: str, size: int) -> Path:
    """A wheel holding ``size`` bytes of random data, stored uncompressed."""
    dist_info = f"{name}-{version}.dist-info"
    small = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: peep-hook-benchmarks\n"
                               b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }

    def record_hash(digest: bytes) -> str:
        return "sha256=" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for arcname, data in small.items():
            zf.writestr(zipfile.ZipInfo(arcname, (2020, 1, 1, 0, 0, 0)), data)
            record.append(f"{arcname},{record_hash(hashlib.sha256(data).digest())},{len(data)}")
        info = zipfile.ZipInfo(f"{name}/blob.bin", (2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        digest = hashlib.sha256()
        with zf.open(info, "w", force_zip64=size >= 2**31) as f:
            left = size
            while left:
                chunk = os.urandom(min(left, 1 << 20))
                digest.update(chunk)
                f.write(chunk)
                left -= len(chunk)
        record.append(f"{name}/blob.bin,{record_hash(digest.digest())},{size}")
        record.append(f"{dist_info}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", (2020, 1, 1, 0, 0, 0)),
                    "\n".join(record) + "\n")
    return path


def publish_file(index: Index, path: Path, name: str) -> str:
    """Put a file built on disk into the index; return its hex SHA-256."""
    target = index.files / path.name
    if path != target:
        shutil.move(str(path), target)
    digest = hashlib.sha256()
    with open(target, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    hex_digest = digest.hexdigest()
    page = index.root / "simple" / canonical(name) / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f'<!DOCTYPE html><html><body>\n<a href="../../files/{target.name}'
                    f'#sha256={hex_digest}">{target.name}</a><br/>\n</body></html>\n')
    return hex_digest


def peep_of(hex_digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).decode().rstrip("=")


@dataclass
class ReqFiles:
    peep: Path    # "# sha256: <base64>" above each requirement (read by the hook)
    native: Path  # "name==v --hash=sha256:<hex>" (pip's own form)
    plain: Path   # "name==v", no hashes
    names: list[str]


def write_reqfiles(directory: Path, stem: str, pins: Sequence[tuple[str, str, str]], *,
                   decoys: int = 0) -> ReqFiles:
    """``pins``: (name, version, hex sha256). With ``decoys``, each requirement
    also gets that many other hashes (of other archives, as for an sdist and
    wheels of other platforms), stacked before the one that matches."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(stem)

    def hexes(h: str) -> list[str]:
        return [rng.randbytes(32).hex() for _ in range(decoys)] + [h]

    stacks = [(n, v, hexes(h)) for n, v, h in pins]
    peep = "".join("".join(f"# sha256: {peep_of(x)}\n" for x in hs) + f"{n}=={v}\n\n"
                   for n, v, hs in stacks)
    native = "".join(f"{n}=={v} " + " ".join(f"--hash=sha256:{x}" for x in hs) + "\n"
                     for n, v, hs in stacks)
    plain = "".join(f"{n}=={v}\n" for n, v, _ in pins)
    files = []
    for kind, text in (("peep", peep), ("native", native), ("plain", plain)):
        path = directory / f"{stem}-{kind}.txt"
        path.write_text(text)
        files.append(path)
    return ReqFiles(*files, names=[n for n, _, _ in pins])


@dataclass
class World:
    tmp: Path
    pip_version: str
    wheelhouse: Path
    hook_wheel: Path
    hooked: Venv
    unhooked: Venv
    index: Index | None = None
    small: ReqFiles | None = None
    large: ReqFiles | None = None
    large_stacked: ReqFiles | None = None  # 3 hashes per requirement, as peep files have
    large_size: int = 0
    info: dict = field(default_factory=dict)


def make_venvs(tmp: Path, wheelhouse: Path, pip_version: str, hook_wheel: Path) -> tuple[Venv, Venv]:
    log("  creating the hooked and the unhooked venv")
    hooked = Venv.create(tmp / "venv-hooked", wheelhouse=wheelhouse, pip_version=pip_version,
                         hook_wheel=hook_wheel)
    unhooked = Venv.create(tmp / "venv-unhooked", wheelhouse=wheelhouse,
                           pip_version=pip_version, hook_wheel=None)
    check = "import sys; print('_peep_hook_start' in sys.modules, 'wrapt' in sys.modules)"
    if measure([hooked.python, "-c", check]).output.split() != ["True", "False"]:
        raise BenchError("the hooked venv does not load peep-hook's start-up trampoline")
    if measure([unhooked.python, "-c", check]).output.split() != ["False", "False"]:
        raise BenchError("the unhooked venv loads peep_hook")
    for venv in (hooked, unhooked):
        out = measure([venv.bin / "pip", "--version"]).output
        if not out.startswith(f"pip {pip_version} "):
            raise BenchError(f"{venv.path}: expected pip {pip_version}, got {out!r}")
    return hooked, unhooked


def installed_count(venv: Venv, names: Sequence[str]) -> int:
    present = {p.name.split("-")[0].lower() for p in venv.site_packages.glob("*.dist-info")}
    return sum(1 for n in names if n.lower() in present)


def sanity_check_enforcement(world: World) -> None:
    """The hooked pip must refuse a requirements file without hashes."""
    assert world.index is not None and world.small is not None
    one = world.tmp / "reqs" / "one-plain.txt"
    one.write_text(world.small.plain.read_text().splitlines()[0] + "\n")
    refused = measure([world.hooked.bin / "pip", "install", "--no-cache-dir", "--index-url",
                       world.index.url, "-r", one], expect=None)
    world.hooked.reset()
    if refused.returncode == 0:
        raise BenchError("the hooked pip installed an unhashed requirement: hook not active\n"
                         + refused.output)
    log("  sanity check: the hooked pip refuses a requirement without hash (good)")


# -- benchmarks ------------------------------------------------------------------


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


def ms(samples: list[Sample], label: str) -> Series:
    return Series(label, [s.seconds * 1000 for s in samples], "ms")


def bench_startup(world: World, plan: Plan) -> list[Row]:
    log("startup: python -c pass")
    res = alternate([("A", lambda: measure([world.hooked.python, "-c", "pass"])),
                     ("B", lambda: measure([world.unhooked.python, "-c", "pass"]))],
                    plan.startup_rounds, warmup=3, what="python -c pass")
    return [paired_row("python -c pass", ms(res["A"], "hooked"), ms(res["B"], "unhooked"),
                       goal_ratio=1.02, cpu=(res["A"], res["B"]),
                       note=instructions_note(world.hooked.python, world.unhooked.python))]


def instructions_note(hooked: Path, unhooked: Path) -> str:
    """Instructions of ``python -c pass`` hooked and unhooked, when valgrind is here."""
    if not shutil.which("valgrind"):
        return "valgrind not installed: no instruction counts"
    a, b = instructions(hooked), instructions(unhooked)
    return (f"instructions (callgrind, PYTHONHASHSEED=0): unhooked {b / 1e6:.2f} M, "
            f"hooked {a - b:+,} ({a / b - 1:+.1%})")


def bench_startup_global(world: World, plan: Plan) -> list[Row]:
    """``python -c pass`` in a private copy of the base interpreter with the
    global hook enabled (its sitecustomize) vs an identical copy without."""
    log("startup-global: python -c pass, global hook vs none (copies of the base interpreter)")
    hooked = copy_base_interpreter(world.tmp / "global-hooked")
    plain = copy_base_interpreter(world.tmp / "global-plain")
    pip_wheel = next(world.wheelhouse.glob(f"pip-{world.pip_version}-*.whl"))
    target = world.tmp / "global-target"
    measure([hooked, pip_wheel / "pip", "install", "-q", "--no-index", "--find-links",
             world.wheelhouse, "--target", target, "wrapt", world.hook_wheel], timeout=600)
    measure([hooked, "-m", "peep_hook", "enable", "--global"],
            env={"PYTHONPATH": str(target)}, cwd=world.tmp, timeout=600)
    check = ("import sys; print(any(getattr(f, '__name__', None) == '_peep_hook_global_watch'"
             " for f in sys.meta_path), 'peep_hook._bootstrap' in sys.modules)")
    if measure([hooked, "-c", check]).output.split() != ["True", "False"]:
        raise BenchError("the global hook does not wait for pip in the hooked copy")
    if measure([plain, "-c", check]).output.split() != ["False", "False"]:
        raise BenchError("the plain copy of the base interpreter is hooked")
    res = alternate([("A", lambda: measure([hooked, "-c", "pass"])),
                     ("B", lambda: measure([plain, "-c", "pass"]))],
                    plan.startup_rounds, warmup=3, what="python -c pass (global)")
    return [paired_row("python -c pass, global hook (sitecustomize)", ms(res["A"], "hooked"),
                       ms(res["B"], "unhooked"), goal_ratio=1.02, cpu=(res["A"], res["B"]),
                       note=instructions_note(hooked, plain))]


def find_pythons() -> list[tuple[str, Path]]:
    """CPython 3.8-3.13: python3.N from PATH if it runs, else the newest pyenv 3.N.x."""
    found = []
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in range(8, 14):
        name = f"python3.{minor}"
        candidates = [shutil.which(name)] + [
            str(d / "bin" / name) for d in sorted(
                pyenv.glob(f"3.{minor}.*"), key=lambda d: version_tuple(d.name), reverse=True)
            if re.fullmatch(rf"3\.{minor}\.\d+", d.name)]
        for exe in filter(None, candidates):
            probe = subprocess.run([exe, "-c", "import platform; print(platform.python_version())"],
                                   capture_output=True, text=True)
            if probe.returncode == 0:
                found.append((probe.stdout.strip(), Path(exe)))
                break
    return found


def bench_startup_pythons(tmp: Path, args: argparse.Namespace, plan: Plan,
                          hook_wheel: Path) -> list[Row]:
    """``python -c pass`` per Python: hooked (A), unhooked (B), a comment-only .pth (C)."""
    pythons = find_pythons()
    if not pythons:
        raise BenchError("no CPython 3.8-3.13 found")
    rows = []
    for version, exe in pythons:
        short = ".".join(version.split(".")[:2])
        log(f"startup-pythons: Python {version} ({exe})")
        base = tmp / f"py{short}"
        venvs = {v: base / f"venv-{v}" for v in ("A", "B", "C")}
        python = {v: d / "bin" / "python" for v, d in venvs.items()}
        site = {v: d / "lib" / f"python{short}" / "site-packages" for v, d in venvs.items()}
        # As users make them: with ensurepip (3.8-3.11 add setuptools and its
        # distutils-precedence.pth; 3.12+ pip alone). ensurepip runs once; A
        # and C get a copy of what it installed.
        measure([exe, "-m", "venv", venvs["B"]], env={"PEEP_HOOK": "off"}, timeout=600)
        for v in ("A", "C"):
            measure([exe, "-m", "venv", "--without-pip", venvs[v]], timeout=600)
            shutil.copytree(site["B"], site[v], symlinks=True, dirs_exist_ok=True)
        wheelhouse = base / "wheelhouse"  # wrapt built for this Python
        given = ["--find-links", str(args.wheelhouse)] if args.wheelhouse else []
        measure([python["B"], "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                 "-d", wheelhouse, *given, WRAPT], env={"PEEP_HOOK": "off"}, timeout=600)
        measure([python["A"], "-m", "pip", "install", "-q", "--no-index", "--find-links",
                 wheelhouse, "wrapt", hook_wheel], env={"PEEP_HOOK": "off"}, timeout=600)
        (site["C"] / "comment.pth").write_text("# only a comment\n")
        check = "import sys; print('_peep_hook_start' in sys.modules)"
        if measure([python["A"], "-c", check]).output.split() != ["True"]:
            raise BenchError(f"Python {version}: the hooked venv does not load peep-hook")
        imported = {v: {n for n, _, _ in parse_importtime(
            measure([python[v], "-X", "importtime", "-c", "pass"]).output)} for v in python}
        res = alternate([(v, lambda exe=exe: measure([exe, "-c", "pass"]))
                         for v, exe in python.items()],
                        plan.startup_rounds, warmup=3, what=f"{short}: python -c pass")
        a, b, c = (ms(res[v], label) for v, label in
                   (("A", "hooked"), ("B", "unhooked"), ("C", "comment .pth")))
        pths = sorted(p.name for p in site["B"].glob("*.pth"))
        note = (f"A-B {a.median - b.median:+.2f} ms; a comment-only .pth (C-B) "
                f"{c.median - b.median:+.2f} ms (C/B {c.median / b.median:.3f}); "
                f"B's own .pth files: {', '.join(pths) or 'none'}; "
                f"A imports beyond B: {', '.join(sorted(imported['A'] - imported['B'])) or '-'}; "
                f"C beyond B: {', '.join(sorted(imported['C'] - imported['B'])) or '-'}")
        if shutil.which("valgrind"):
            ir = {v: instructions(exe) for v, exe in python.items()}
            note += (f"; instructions (callgrind) B {ir['B'] / 1e6:.2f} M, "
                     f"A {ir['A'] - ir['B']:+,} ({ir['A'] / ir['B'] - 1:+.1%}), "
                     f"C {ir['C'] - ir['B']:+,} ({ir['C'] / ir['B'] - 1:+.1%})")
        rows.append(paired_row(f"python -c pass, Python {version}", a, b, goal_ratio=1.02,
                               note=note, cpu=(res["A"], res["B"])))
    return rows


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


def parse_importtime(stderr: str) -> list[tuple[str, int, int]]:
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s?(\s*)(\S+)", line)
        if m:
            rows.append((m.group(4), int(m.group(1)), int(m.group(2))))
    return rows


def bench_importtime(world: World, plan: Plan) -> list[Row]:
    log("importtime: python -X importtime -c pass (hooked)")
    totals, seen = [], set()
    detail: dict[str, list[int]] = {}
    for _ in range(plan.importtime_runs):
        sample = measure([world.hooked.python, "-X", "importtime", "-c", "pass"])
        mods = parse_importtime(sample.output)
        if not mods:
            raise BenchError("no -X importtime output:\n" + sample.output)
        seen.update(name for name, _, _ in mods)
        ours = [(n, s) for n, s, _ in mods
                if n in ("peep_hook", "_peep_hook_start") or n.startswith("peep_hook.")]
        for n, s in ours:
            detail.setdefault(n, []).append(s)
        totals.append(float(sum(s for _, s in ours)))
    bad = sorted(n for n in seen if n.split(".")[0] in ("wrapt", "pip"))
    world.info["importtime"] = {
        "modules": {n: statistics.median(v) for n, v in detail.items()},
        "forbidden": bad,
        "all_imported": len(seen),
    }
    note = ("imports neither wrapt nor pip" if not bad
            else "imports " + ", ".join(bad))
    return [Row("python -X importtime -c pass: peep_hook modules (self, us)",
                Series("peep_hook", totals, "us"), None,
                "no wrapt, no pip imported", met=not bad, note=note)]


def bench_pip_startup(world: World, plan: Plan) -> list[Row]:
    rows = []
    for args in (["--version"], ["install", "--help"]):
        cmd = "pip " + " ".join(args)
        log(f"pip-startup: {cmd}")
        res = alternate([("A", lambda args=args: measure([world.hooked.bin / "pip", *args])),
                         ("B", lambda args=args: measure([world.unhooked.bin / "pip", *args]))],
                        plan.pip_rounds, warmup=2, what=cmd)
        rows.append(paired_row(cmd, ms(res["A"], "hooked"), ms(res["B"], "unhooked"),
                               goal_ratio=1.05, cpu=(res["A"], res["B"])))
    return rows


def install_variants(world: World, files: ReqFiles, expect: int):
    def install(venv: Venv, reqs: Path) -> Callable[[], Sample]:
        def run() -> Sample:
            sample = measure([venv.bin / "pip", "install", "--no-cache-dir",
                              "--index-url", world.index.url, "-r", reqs])
            got = installed_count(venv, files.names)
            if got != expect:
                raise BenchError(f"{reqs.name}: {got} of {expect} installed\n{sample.output}")
            return sample
        return run

    variants = [("A", install(world.hooked, files.peep)),
                ("B", install(world.unhooked, files.native)),
                ("C", install(world.unhooked, files.plain))]

    def reset(name: str) -> None:
        (world.hooked if name == "A" else world.unhooked).reset()
        # Write back what this run left dirty now, not during the next run.
        os.sync()

    return variants, reset


def bench_install(world: World, plan: Plan) -> list[Row]:
    log(f"install: pip install -r of {plan.n_small} small wheels")
    variants, reset = install_variants(world, world.small, plan.n_small)
    res = alternate(variants, plan.install_rounds, warmup=plan.install_warmup, after=reset,
                    what="install")
    a, b, c = (ms(res["A"], "hooked, peep"), ms(res["B"], "unhooked, --hash"),
               ms(res["C"], "unhooked, no hashes"))
    rss = lambda k, label: Series(label, [s.maxrss / MB for s in res[k]], "MB")  # noqa: E731
    note = ""
    if shutil.which("valgrind"):
        # One install each under callgrind: the CPU work, whatever the load.
        log("install: instructions of one hooked and one unhooked install (callgrind)")
        counts = {}
        for name, venv, reqs in (("A", world.hooked, world.small.peep),
                                 ("B", world.unhooked, world.small.native)):
            counts[name] = instructions_of([venv.python, "-m", "pip", "install", "-q",
                                            "--no-cache-dir", "--index-url", world.index.url,
                                            "-r", reqs], timeout=1800)
            if installed_count(venv, world.small.names) != plan.n_small:
                raise BenchError(f"callgrind run of {reqs.name} did not install everything")
            venv.reset()
        note = (f"instructions (callgrind, one run each): unhooked --hash "
                f"{counts['B'] / 1e9:.3f} G, hooked {counts['A'] - counts['B']:+,} "
                f"({counts['A'] / counts['B'] - 1:+.2%})")
    return [
        paired_row(f"install {plan.n_small} wheels: hooked peep vs unhooked --hash", a, b,
                   goal_ratio=1.02, cpu=(res["A"], res["B"]), note=note),
        paired_row(f"install {plan.n_small} wheels: hooked peep vs unhooked no hashes", a, c,
                   goal_ratio=None, cpu=(res["A"], res["C"])),
        paired_row(f"install {plan.n_small} wheels: unhooked --hash vs no hashes", b, c,
                   goal_ratio=None, cpu=(res["B"], res["C"])),
        paired_row(f"install {plan.n_small} wheels: peak RSS", rss("A", "hooked"),
                   rss("B", "unhooked"), goal_ratio=None),
    ]


def bench_realworld(world: World, plan: Plan, cache: Path) -> list[Row]:
    """43 real archives from PyPI (38 wheels, 5 sdists built from source),
    served from 127.0.0.1: hooked with peep comments vs unhooked with pip's
    --hash (hash-checking mode), no pip cache, a fresh install each round."""
    log(f"realworld: {len(realworld.ARCHIVES)} archives from PyPI (cached in {cache})")

    def download(pip_args: Sequence[str], directory: Path) -> None:
        measure([world.unhooked.bin / "pip", "download", "-q", "-d", directory, *pip_args],
                timeout=1800)

    try:
        paths = realworld.fetch(cache, download)
    except RuntimeError as exc:
        raise BenchError(str(exc)) from exc
    index = Index(world.tmp / "index-realworld")
    try:
        pins = []
        staging = world.tmp / "realworld-staging"
        staging.mkdir()
        for path in paths:
            name = realworld.project_of(path.name)
            copy = staging / path.name
            shutil.copy2(path, copy)
            version = next(v for n, v, _ in realworld.ARCHIVES
                           if canonical(n) == canonical(name))
            pins.append((name, version, publish_file(index, copy, name)))
        files = write_reqfiles(world.tmp / "reqs", "realworld", pins)
        expected = {canonical(n) for n, _, _ in pins}
        megabytes = sum(p.stat().st_size for p in paths) / MB

        def installed(venv: Venv) -> set[str]:
            return {canonical(p.name.split("-")[0]) for p in venv.site_packages.glob("*.dist-info")}

        def install(venv: Venv, reqs: Path) -> Callable[[], Sample]:
            def run() -> Sample:
                sample = measure([venv.bin / "pip", "install", "--no-cache-dir",
                                  "--index-url", index.url, "-r", reqs], timeout=1800)
                missing = expected - installed(venv)
                if missing:
                    raise BenchError(f"{reqs.name}: not installed: {sorted(missing)}\n"
                                     + sample.output[-4000:])
                return sample
            return run

        def reset(name: str) -> None:
            (world.hooked if name == "A" else world.unhooked).reset()
            os.sync()

        first = install(world.hooked, files.peep)()  # and a check that the hook verified
        records = list(world.hooked.site_packages.glob("*.dist-info/PEEP_HOOK.json"))
        if len(records) < len(expected):
            raise BenchError(f"the hooked install left {len(records)} records for "
                             f"{len(expected)} archives\n{first.output[-4000:]}")
        # Issue 25: verify --deep over this environment, against the same archives.
        plain = [world.hooked.bin / "peep-hook", "verify", "--json", "-r", files.peep]
        deep_rows = bench_verify_deep(world, plan, world.hooked, index.files, files.peep, plain,
                                      what="real-world environment, ", clean=False)
        world.hooked.reset()
        res = alternate([("A", install(world.hooked, files.peep)),
                         ("B", install(world.unhooked, files.native))],
                        plan.realworld_rounds, warmup=0, after=reset, what="realworld")
    finally:
        index.close()
    sdists = sum(1 for _, _, k in realworld.ARCHIVES if k == "sdist")
    note = (f"{len(pins)} archives ({len(pins) - sdists} wheels, {sdists} sdists built each "
            f"round), {megabytes:.0f} MB, from PyPI; setuptools and wheel pinned in the same "
            "file (the hook hands their hashes to the builds)")
    return [paired_row(f"real-world install, {len(pins)} PyPI archives: hooked peep vs "
                       "unhooked --hash", ms(res["A"], "hooked, peep"),
                       ms(res["B"], "unhooked, --hash"), goal_ratio=1.02,
                       cpu=(res["A"], res["B"]), note=note)] + deep_rows


def bench_large(world: World, plan: Plan, want: set[str]) -> list[Row]:
    mb = world.large_size // MB
    log(f"large: pip install -r of one {mb} MB wheel")
    variants, reset = install_variants(world, world.large, 1)
    if "large" not in want:  # memory only: hooked vs --hash is enough
        variants = variants[:2]
    res = alternate(variants, plan.large_rounds, warmup=plan.large_warmup, after=reset,
                    what="large install")
    rows = []
    if "large" in want:
        a, b, c = (ms(res["A"], "hooked, peep"), ms(res["B"], "unhooked, --hash"),
                   ms(res["C"], "unhooked, no hashes"))
        rows += [
            paired_row(f"install {mb} MB wheel: hooked peep vs unhooked --hash", a, b,
                       goal_ratio=1.02, cpu=(res["A"], res["B"])),
            paired_row(f"install {mb} MB wheel: hooked peep vs unhooked no hashes", a, c,
                       goal_ratio=None, cpu=(res["A"], res["C"])),
        ]
    if "large" in want:
        log("large: the same with 3 hashes per requirement (2 for other archives)")
        variants, reset = install_variants(world, world.large_stacked, 1)
        stacked = alternate(variants[:2], plan.large_rounds, warmup=plan.large_warmup,
                            after=reset, what="large install, 3 hashes")
        rows.append(paired_row(f"install {mb} MB wheel, 3 hashes each: hooked peep vs "
                               "unhooked --hash", ms(stacked["A"], "hooked, peep"),
                               ms(stacked["B"], "unhooked, --hash"), goal_ratio=1.02,
                               cpu=(stacked["A"], stacked["B"])))
    if "memory" in want:
        a = Series("hooked", [s.maxrss / MB for s in res["A"]], "MB")
        b = Series("unhooked", [s.maxrss / MB for s in res["B"]], "MB")
        row = paired_row(f"peak RSS, install {mb} MB wheel: hooked vs unhooked --hash", a, b,
                         goal_ratio=None)
        diff = a.median - b.median
        row.goal, row.met = "A-B <= 5 MB", diff <= 5.0
        row.note = f"A-B = {diff:+.1f} MB"
        rows.append(row)
    return rows


def make_scale_text(n: int, per: int = 3, seed: int = 6) -> tuple[str, str, list[str]]:
    """(peep text, native text, peep values) for n requirements with ``per`` hashes."""
    rng = random.Random(seed)
    peep_lines, native_lines, values = [], [], []
    for i in range(n):
        hexes = [rng.randbytes(32).hex() for _ in range(per)]
        peeps = [peep_of(h) for h in hexes]
        values += peeps
        peep_lines += [f"# sha256: {p}" for p in peeps] + [f"pkg{i}==1.0.{i}", ""]
        native_lines.append(f"pkg{i}==1.0.{i} " + " ".join(f"--hash=sha256:{h}" for h in hexes))
    return "\n".join(peep_lines) + "\n", "\n".join(native_lines) + "\n", values


PARSE_SCRIPT = r"""
import sys, time
from pip._internal.commands import create_command
from pip._internal.network.session import PipSession
from pip._internal.req import req_file

# Run inside a real `pip install` command, so that the hook loads the way it
# does for users (at import of pip in older peep-hooks, at the start of a
# fetching command in newer ones); the command's own work is replaced by the
# one call timed here.
command = create_command("install")

def run(options, args):
    session = PipSession()
    start = time.perf_counter()
    reqs = list(req_file.parse_requirements(sys.argv[1], session=session))
    elapsed = time.perf_counter() - start
    hashed = sum(1 for r in reqs
                 if len(((r.options or {}).get("hashes") or {}).get("sha256", ())) == 3)
    print("RESULT", elapsed, len(reqs), hashed, int("peep_hook.pip_patches" in sys.modules))
    return 0

command.run = run
sys.exit(command.main([]))
"""


def bench_scale(world: World | None, plan: Plan) -> list[Row]:
    from peep_hook import hashes, reqfile  # the checkout's, stdlib only

    log("scale: peep_hook.reqfile.scan in-process")
    rows, per_req = [], {}
    world_info = {}
    for n in plan.scale_sizes:
        text, _, values = make_scale_text(n)
        result = reqfile.scan(text)
        if (len(result.blocks) != n or result.malformed or result.orphans
                or any(len(b) != 3 for b in result.blocks.values())):
            raise BenchError(f"scan of the {n}-requirement file did not find {n} blocks of 3")
        linenos = sorted(result.blocks)
        scan_t, conv_t, lookup_t = [], [], []
        for _ in range(plan.scale_reps[n]):
            gc.collect()
            t0 = time.perf_counter()
            scanned = reqfile.scan(text)
            for lineno in linenos:  # what the hook's collector reads: every block
                [h.hex for h in scanned.hashes_for(lineno)]
            t1 = time.perf_counter()
            for v in values:
                hashes.peep_to_hex(v)
            t2 = time.perf_counter()
            reqfile.scan(text)
            t3 = time.perf_counter()
            scan_t.append((t1 - t0) * 1000)
            conv_t.append((t2 - t1) * 1000)
            lookup_t.append((t3 - t2) * 1000)
        scan = Series("scan", scan_t, "ms")
        per_req[n] = scan.median / n * 1000  # us per requirement
        world_info[n] = {"scan": scan.median, "convert": statistics.median(conv_t),
                         "lookup": statistics.median(lookup_t), "bytes": len(text)}
        goal, met = ("< 30 ms", scan.median < 30) if n == 10_000 else ("info", None)
        rows.append(Row(f"reqfile.scan and every block read, {n:,} reqs x 3 hashes", scan, None,
                        goal, met, note=f"{per_req[n]:.2f} us/req; scan alone (blocks not "
                        f"yet read) {statistics.median(lookup_t):.1f} ms"))
        rows.append(Row(f"peep_to_hex one by one, {3 * n:,} values (scan converts them at once)",
                        Series("conv", conv_t, "ms"),
                        None, "info", None))
    if 1_000 in per_req and 10_000 in per_req:
        growth = per_req[10_000] / per_req[1_000]
        rows.append(Row("scan cost per req, 10,000 vs 1,000", None, None,
                        "linear: <= 1.5", growth <= 1.5, ratio=growth,
                        a_text=f"{per_req[10_000]:.2f} us/req",
                        note=f"at 1,000: {per_req[1_000]:.2f} us/req"))
    if world is not None:
        world.info["scale"] = world_info
        n = plan.parse_size
        log(f"scale: pip parse_requirements of {n:,} requirements, hooked vs unhooked")
        peep_text, native_text, _ = make_scale_text(n)
        peep_path = world.tmp / "reqs" / f"scale-{n}-peep.txt"
        native_path = world.tmp / "reqs" / f"scale-{n}-native.txt"
        peep_path.parent.mkdir(parents=True, exist_ok=True)
        peep_path.write_text(peep_text)
        native_path.write_text(native_text)

        def parse(venv: Venv, path: Path, hooked: bool) -> Callable[[], Sample]:
            def run() -> Sample:
                s = measure([venv.python, "-c", PARSE_SCRIPT, path])
                result = [line for line in s.output.splitlines() if line.startswith("RESULT ")]
                if not result:
                    raise BenchError(f"parse of {path.name}: no result\n{s.output[-2000:]}")
                elapsed, count, hashed, loaded = result[-1].split()[1:]
                if int(loaded) != hooked:
                    raise BenchError(f"parse of {path.name}: hook loaded={loaded}, "
                                     f"expected {int(hooked)}")
                if int(count) != n or int(hashed) != n:
                    raise BenchError(f"parse of {path.name}: {count} reqs, {hashed} with 3 hashes")
                s.seconds = float(elapsed)
                return s
            return run

        res = alternate([("A", parse(world.hooked, peep_path, True)),
                         ("B", parse(world.unhooked, native_path, False))],
                        plan.parse_rounds, warmup=1, what="parse_requirements")
        rows.append(paired_row(f"pip parse_requirements, {n:,} reqs: hooked peep vs unhooked "
                               "--hash", ms(res["A"], "hooked"), ms(res["B"], "unhooked"),
                               goal_ratio=None))
    return rows


def write_verify_wheel(directory: Path, name: str, modules: int, data_size: int) -> Path:
    """A wheel of ``modules`` small modules and one file of random data."""
    dist_info = f"{name}-1.0.dist-info"
    source = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60))
    files = {f"{name}/__init__.py": b"VERSION = '1.0'\n"}
    files.update({f"{name}/m{j:03d}.py": source.encode() for j in range(modules - 1)})
    files[f"{name}/data.bin"] = os.urandom(data_size)
    files[f"{dist_info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\n"
                                      "Version: 1.0\n").encode()
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: peep-hook-benchmarks\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = [f"{p},sha256={peep_of(hashlib.sha256(d).hexdigest())},{len(d)}"
              for p, d in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in files.items():
            info = zipfile.ZipInfo(arcname, (2020, 1, 1, 0, 0, 0))
            stored = arcname.endswith(".bin")  # random data: nothing to compress
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def bench_verify(world: World, plan: Plan, n: int = 100, total: int = 300 * MB) -> list[Row]:
    """peep-hook verify of n distributions, ``total`` bytes installed, all through the hook."""
    log(f"verify: building {n} wheels, {total // MB} MB, and installing them with the hook")
    venv = Venv.create(world.tmp / "venv-verify", wheelhouse=world.wheelhouse,
                       pip_version=world.pip_version, hook_wheel=world.hook_wheel)
    index = Index(world.tmp / "index-verify")
    try:
        modules = 100
        per_dist = total // n - modules * 1_500  # the modules come to about 1.5 kB each
        pins = []
        for i in range(n):
            name = f"benchverify{i:03d}"
            path = write_verify_wheel(world.tmp / "build-verify", name, modules, per_dist)
            pins.append((name, "1.0", publish_file(index, path, name)))
        files = write_reqfiles(world.tmp / "reqs", "verify", pins)
        measure([venv.bin / "pip", "install", "-q", "--no-cache-dir", "--index-url", index.url,
                 "-r", files.peep], timeout=1800)
    finally:
        index.close()
    command = [venv.bin / "peep-hook", "verify", "--json", "-r", files.peep]
    samples = [measure(command, cwd=world.tmp) for _ in range(max(3, plan.install_rounds) + 1)]
    report = json.loads(samples[-1].output)
    checked = report["checked"]
    if not report["clean"] or checked["distributions"] < n or checked["bytes"] < total:
        raise BenchError(f"verify of the benchmark environment: {samples[-1].output[-4000:]}")
    times = Series("verify", [s.seconds for s in samples[1:]], "s")  # first: page cache cold-ish
    cpu = statistics.median(s.cpu for s in samples[1:])
    note = (f"{checked['distributions']} distributions, {checked['files']:,} files hashed, "
            f"{checked['bytes'] / MB:.0f} MB; median CPU time (user + system) {cpu:.2f} s; "
            "page cache warm")
    rows = [Row(f"peep-hook verify, {n} distributions / {total // MB} MB", times, None,
                "< 2 s", times.median < 2.0, note=note)]
    return rows + bench_verify_deep(world, plan, venv, index.files, files.peep, command)


def bench_verify_deep(world: World, plan: Plan, venv: Venv, archive_dir: Path, peep: Path,
                      plain: list, what: str = "", *, clean: bool = True) -> list[Row]:
    """verify --deep (every installed file against its archive, from a local directory)
    vs plain verify (against RECORD), alternating, over the same environment."""
    lines = []
    for path in [*world.wheelhouse.glob(f"pip-{world.pip_version}-*.whl"),
                 *world.wheelhouse.glob("wrapt-*.whl"), world.hook_wheel]:
        shutil.copy(path, archive_dir / path.name)  # pip, wrapt, peep-hook: archives too
        lines.append(f"{path.name.split('-')[0]} --hash=sha256:"
                     f"{hashlib.sha256(path.read_bytes()).hexdigest()}\n")
    tooling = world.tmp / "reqs" / "verify-tooling.txt"
    tooling.write_text("".join(lines))
    deep = [venv.bin / "peep-hook", "verify", "--json", "--deep", "--archives", archive_dir,
            "-r", peep, "-r", tooling]
    log("verify: --deep --archives DIR vs plain verify")
    # and warms the page cache; clean=False: timed whatever --deep reports
    report = json.loads(measure(deep, cwd=world.tmp, expect=0 if clean else None).output)
    on_archives = sum(d["basis"] == "archive" for d in report["distributions"])
    if clean and (not report["clean"] or on_archives != len(report["distributions"])):
        raise BenchError(f"verify --deep of the benchmark environment: {report['problems'][:5]}")
    res = alternate([("A", lambda: measure(deep, cwd=world.tmp, expect=0 if clean else None)),
                     ("B", lambda: measure(plain, cwd=world.tmp, expect=0 if clean else None))],
                    max(3, plan.install_rounds), what="verify --deep vs plain")
    a, b = Series("verify --deep", [s.seconds for s in res["A"]], "s"), \
        Series("verify", [s.seconds for s in res["B"]], "s")
    row = paired_row(f"verify --deep --archives DIR vs plain verify, {what or ''}"
                     f"{on_archives} distributions", a, b, goal_ratio=None,
                     cpu=(res["A"], res["B"]))
    row.goal, row.met = "A-B <= a few s", a.median - b.median <= 5.0
    row.note = (f"A-B = {a.median - b.median:+.2f} s; every installed file compared with its "
                f"member in {on_archives} archives (each hashed first) and "
                f"{report['checked']['bytecode']:,} .pyc compiled from their verified source "
                "(plain verify takes the record's hashes for those pip compiled); page cache warm")
    if report["problems"]:
        row.note += (f"; {len(report['distributions'])} distributions, "
                     f"--deep reported {len(report['problems'])} problems: "
                     + "; ".join(p["message"] for p in report["problems"][:3]))
    return [row]


# -- set-up, report, main ----------------------------------------------------------


def setup_world(tmp: Path, args: argparse.Namespace, plan: Plan, want: set[str]) -> World:
    log("set-up")
    python = tool_python(tmp)
    wheelhouse = make_wheelhouse(tmp, python, args.pip, args.wheelhouse)
    described = source_description(args.ref)
    log("  building peep-hook's wheel from the checkout (no network): " + described)
    source = copy_source(tmp, args.ref)
    # The in-process scale benchmark imports this same copy.
    sys.path.insert(0, str(source))
    hook_wheel = build_hook_wheel(tmp, python, source)
    hooked, unhooked = make_venvs(tmp, wheelhouse, args.pip, hook_wheel)
    world = World(tmp, args.pip, wheelhouse, hook_wheel, hooked, unhooked)
    world.info["source"] = described
    world.info["wheels"] = [next(wheelhouse.glob(f"pip-{args.pip}-*.whl")).name,
                            next(wheelhouse.glob("wrapt-*.whl")).name, hook_wheel.name]
    if want & {"install", "large", "memory"}:
        world.index = Index(tmp / "index")
        log(f"  index at {world.index.url}; building {plan.n_small} small wheels")
        pins = []
        filler = "DATA = " + repr("x" * 2000)
        for i in range(plan.n_small):
            archive = archives.wheel(f"benchpkg{i:03d}", "1.0", payload=filler)
            world.index.publish(archive)
            pins.append((archive.name, archive.version, archive.sha256))
        world.small = write_reqfiles(tmp / "reqs", "small", pins)
        sanity_check_enforcement(world)
    if want & {"large", "memory"}:
        size = (args.large_mb if args.large_mb is not None else plan.large_mb) * MB
        log(f"  writing a {size // MB} MB wheel of random data (ZIP_STORED)")
        path = write_big_wheel(tmp / "build", "benchlarge", "1.0", size)
        digest = publish_file(world.index, path, "benchlarge")
        world.large = write_reqfiles(tmp / "reqs", "large", [("benchlarge", "1.0", digest)])
        world.large_stacked = write_reqfiles(tmp / "reqs", "large-stacked",
                                             [("benchlarge", "1.0", digest)], decoys=2)
        world.large_size = size
    return world


def describe_machine(args: argparse.Namespace, world: World | None) -> list[tuple[str, str]]:
    uname = platform.uname()
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    from peep_hook import __version__

    info = [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{uname.system} {uname.node} {uname.release} {uname.version} {uname.machine}"),
        ("nproc", nproc),
        ("Python", f"{platform.python_implementation()} {platform.python_version()} "
                   f"({sys.executable})"),
        ("pip under test", args.pip),
        ("peep-hook", f"{__version__}, "
                      + (world.info["source"] if world else source_description(args.ref))),
    ]
    if world is not None:
        info.append(("wheels", ", ".join(world.info.get("wheels", []))))
    return info


def report(rows: list[Row], machine: list[tuple[str, str]], loads: tuple, world: World | None,
           args: argparse.Namespace, want: set[str], elapsed: float) -> tuple[str, str]:
    cells = [row_cells(r) for r in rows]
    missed = [r for r in rows if r.met is False]
    notes = [f"{r.name}: {r.note}" for r in rows if r.note]
    load = (f"load average at start {loads[0][0]:.2f}/{loads[0][1]:.2f}/{loads[0][2]:.2f}, "
            f"at end {loads[1][0]:.2f}/{loads[1][1]:.2f}/{loads[1][2]:.2f}")

    text = [", ".join(f"{k}: {v}" for k, v in machine if k != "wheels"), "",
            text_table(HEADERS, cells), ""]
    text += [f"  {n}" for n in notes]
    text.append("")
    text.append("goals missed: " + (", ".join(r.name for r in missed) if missed else "none"))
    text.append(f"{load}; run took {elapsed / 60:.1f} min")

    title = "peep-hook benchmarks: last run"
    rst = [title, "=" * len(title), ""]
    rst.append("Written by ``benchmarks/run.py``"
               + (" (partial run: " + ", ".join(sorted(want)) + ")"
                  if set(want) != set(BENCHMARKS) else "")
               + (" with ``--quick``" if args.quick else "") + ".")
    rst.append("")
    for key, value in machine:
        rst.append(f":{key}: {value}")
    rst.append(f":load: {load}")
    rst.append(":command: ``" + " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]) + "``")
    rst.append(f":duration: {elapsed / 60:.1f} min")
    rst += ["", "Results", "-------", "",
            "A is the hooked venv (pip reads peep ``# sha256:`` comments), B the identical "
            "venv without peep-hook (pip given the same hashes as ``--hash=sha256:``) unless "
            "the row says otherwise. A and B were run alternately in the same run, the order "
            "rotating every round. Spread is the inter-quartile range of each; "
            "\"A/B per round\" is the IQR of the ratios of the runs paired by round; "
            "\"A/B of min\" compares the fastest run of each, the one least disturbed by "
            "other load; "
            "\"CPU A/B\" is the ratio of the median user + system CPU times of the children "
            "(less sensitive than wall time to other load on the machine). "
            "Times are wall-clock times of whole processes except the scale rows, which time "
            "the work itself in-process, and the parse_requirements row, which times the "
            "call inside the child.", "", rst_table(HEADERS, cells), ""]
    if notes:
        rst += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    rst += ["Goals missed: " + (", ".join(r.name for r in missed) if missed else "none") + ".", ""]

    detail_headers = ("benchmark", "variant", "n", "median", "q1", "q3", "min", "max")
    detail = []
    for r in rows:
        for tag, s in (("A", r.a), ("B", r.b)):
            if s is None:
                continue
            q1, q3 = s.quartiles
            detail.append([r.name, f"{tag}: {s.label}", str(len(s.values)), fmt(s.median, s.unit),
                           fmt(q1), fmt(q3), fmt(min(s.values)), fmt(max(s.values))])
    if detail:
        rst += ["All samples", "-----------", "", rst_table(detail_headers, detail), ""]
    if world is not None and "importtime" in world.info:
        it = world.info["importtime"]
        rst += ["Import time of peep_hook at start-up", "------------------------------------",
                "", f"Median self time per module over the runs (microseconds); "
                f"{it['all_imported']} modules imported in all; wrapt or pip imported: "
                f"{', '.join(it['forbidden']) or 'no'}.", ""]
        rst += [f"- ``{n}``: {v:.0f} us" for n, v in sorted(it["modules"].items())] + [""]
    if world is not None and "scale" in world.info:
        rst += ["Scale detail", "------------", "",
                rst_table(("requirements", "file size", "scan and every block read",
                           "peep_to_hex one by one", "scan alone"),
                          [[f"{n:,}", f"{d['bytes'] / 1000:,.0f} kB", fmt(d["scan"], "ms"),
                            fmt(d["convert"], "ms"), fmt(d["lookup"], "ms")]
                           for n, d in sorted(world.info["scale"].items())]), ""]
    return "\n".join(text), "\n".join(rst)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="benchmarks: " + ", ".join(BENCHMARKS + OPTIONAL))
    p.add_argument("--quick", action="store_true", help="few rounds, a 50 MB archive")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only these benchmarks (repeat or comma-separate)")
    p.add_argument("--pip", default="26.3", metavar="VERSION", help="pip under test (26.3)")
    p.add_argument("--wheelhouse", type=Path, metavar="DIR",
                   help="use this directory's pip and wrapt wheels instead of downloading")
    p.add_argument("--large-mb", type=int, metavar="N", help="size of the large archive")
    p.add_argument("--rst", type=Path, metavar="PATH",
                   help="where to write the reST report (default for a full run: "
                        "benchmarks/last-run.rst)")
    p.add_argument("--ref", metavar="GIT_REF",
                   help="benchmark peep-hook as committed at this ref (default: the "
                        "working tree as it is)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--realworld-cache", type=Path, metavar="DIR",
                   default=realworld.default_cache(),
                   help="where the real-world benchmark keeps its PyPI archives "
                        "(default: %(default)s)")
    args = p.parse_args(argv)
    want = set()
    for item in args.only or []:
        want.update(x.strip() for x in item.split(",") if x.strip())
    unknown = want - set(BENCHMARKS) - set(OPTIONAL)
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; "
                f"choose from {', '.join(BENCHMARKS + OPTIONAL)}")
    args.want = want or set(BENCHMARKS)
    if args.rst is None and not args.quick and not args.only:
        args.rst = DEFAULT_RST
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    want = args.want
    started = time.perf_counter()
    loads = [os.getloadavg()]
    tmp = Path(tempfile.mkdtemp(prefix="peep-hook-bench-"))
    world = None
    rows: list[Row] = []
    try:
        # Every benchmark needs the venvs (scale's in-process rows do not, but
        # its parse_requirements row does); startup-pythons needs only the wheel.
        if want - set(OPTIONAL):
            world = setup_world(tmp, args, plan, want)
        if "startup-pythons" in want:
            if world is not None:
                hook_wheel = world.hook_wheel
            else:
                log("  building peep-hook's wheel from the checkout (no network)")
                hook_wheel = build_hook_wheel(tmp, tool_python(tmp), copy_source(tmp, args.ref))
            rows += bench_startup_pythons(tmp, args, plan, hook_wheel)
        if "startup" in want:
            rows += bench_startup(world, plan)
        if "startup-global" in want:
            rows += bench_startup_global(world, plan)
        if "importtime" in want:
            rows += bench_importtime(world, plan)
        if "pip-startup" in want:
            rows += bench_pip_startup(world, plan)
        if "install" in want:
            rows += bench_install(world, plan)
        if "realworld" in want:
            rows += bench_realworld(world, plan, args.realworld_cache)
        if want & {"large", "memory"}:
            rows += bench_large(world, plan, want)
        if "scale" in want:
            rows += bench_scale(world, plan)
        if "verify" in want:
            rows += bench_verify(world, plan)
    except BenchError as exc:
        log(f"benchmark failed:\n{exc}")
        return 1
    finally:
        if world is not None and world.index is not None:
            world.index.close()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    loads.append(os.getloadavg())
    elapsed = time.perf_counter() - started
    text, rst = report(rows, describe_machine(args, world), tuple(loads), world, args, want,
                       elapsed)
    print(text)
    if args.rst is not None:
        args.rst.write_text(rst)
        log(f"wrote {args.rst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
