"""``peep-hook verify`` of a large environment, and ``verify --deep`` against
the archives vs plain ``verify``."""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
from pathlib import Path

from benchmarks.harness import (
    MB,
    BenchError,
    Plan,
    Row,
    Series,
    alternate,
    log,
    measure,
    paired_row,
)
from benchmarks.world import World, publish_file, write_reqfiles, write_verify_wheel
from tests._support.index import Index
from tests._support.venvs import Venv


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
