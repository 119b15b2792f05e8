"""The benchmarks themselves, one module per family, and the order they run in."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.cases.install import bench_install, bench_large, bench_realworld
from benchmarks.cases.scale import bench_scale
from benchmarks.cases.startup import (
    bench_importtime,
    bench_pip_startup,
    bench_startup,
    bench_startup_global,
    bench_startup_pythons,
)
from benchmarks.cases.verify import bench_verify
from benchmarks.harness import Plan, Row, build_hook_wheel, copy_source, log, tool_python
from benchmarks.world import World

BENCHMARKS = ("startup", "startup-global", "importtime", "pip-startup", "install", "realworld",
              "large", "memory", "scale", "verify")
OPTIONAL = ("startup-pythons",)  # run only when named with --only


def run(world: World | None, tmp: Path, args: argparse.Namespace, plan: Plan) -> list[Row]:
    """The benchmarks ``args.want`` names, in the order of the table."""
    want = args.want
    rows: list[Row] = []
    if "startup-pythons" in want:
        if world is not None:
            hook_wheel = world.hook_wheel
        else:
            log("  building peep-hook's wheel from the checkout (no network)")
            hook_wheel = build_hook_wheel(tmp, tool_python(tmp), copy_source(tmp, args.ref))
        rows += bench_startup_pythons(tmp, args, plan, hook_wheel)
    if world is None:
        return rows
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
    return rows
