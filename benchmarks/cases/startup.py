"""Start-up costs: ``python -c pass`` hooked and unhooked (per venv, global
hook, per Python), import time, and ``pip --version`` / ``pip install --help``."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path

from benchmarks.harness import (
    BenchError,
    Plan,
    Row,
    Series,
    alternate,
    instructions,
    log,
    measure,
    ms,
    paired_row,
    version_tuple,
)
from benchmarks.world import WRAPT, World
from tests._support.interpreters import copy_base_interpreter


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
             " for f in sys.meta_path), 'peep_hook.startup.bootstrap' in sys.modules)")
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
