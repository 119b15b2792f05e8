"""``pip install -r``: 50 small wheels, 43 real archives from PyPI, one large
wheel (and its peak RSS)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Sequence

from benchmarks import realworld
from benchmarks.cases.verify import bench_verify_deep
from benchmarks.harness import (
    MB,
    BenchError,
    Plan,
    Row,
    Sample,
    Series,
    alternate,
    instructions_of,
    log,
    measure,
    ms,
    paired_row,
)
from benchmarks.world import ReqFiles, World, installed_count, publish_file, write_reqfiles
from tests._support.index import Index, canonical
from tests._support.venvs import Venv


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
    paths = _fetch_realworld(world, cache)
    index = Index(world.tmp / "index-realworld")
    try:
        pins = _publish_realworld(world, index, paths)
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


def _fetch_realworld(world: World, cache: Path) -> list[Path]:
    """The real-world archives, from the cache or PyPI (the unhooked pip downloads)."""
    def download(pip_args: Sequence[str], directory: Path) -> None:
        measure([world.unhooked.bin / "pip", "download", "-q", "-d", directory, *pip_args],
                timeout=1800)

    try:
        return realworld.fetch(cache, download)
    except RuntimeError as exc:
        raise BenchError(str(exc)) from exc


def _publish_realworld(world: World, index: Index, paths: list[Path]
                       ) -> list[tuple[str, str, str]]:
    """Copies of the cached archives in the index: (name, version, hex sha256) each."""
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
    return pins


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
