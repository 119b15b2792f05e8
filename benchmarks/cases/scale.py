"""Large requirements files: peep_hook.core.reqfile.scan in-process, and pip's
parse_requirements hooked and unhooked in a child."""

from __future__ import annotations

import gc
import random
import statistics
import time
from pathlib import Path
from typing import Callable

from benchmarks.harness import (
    BenchError,
    Plan,
    Row,
    Sample,
    Series,
    alternate,
    log,
    measure,
    ms,
    paired_row,
)
from benchmarks.world import World, peep_of
from tests._support.venvs import Venv


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
    print("RESULT", elapsed, len(reqs), hashed, int("peep_hook.hook.targets" in sys.modules))
    return 0

command.run = run
sys.exit(command.main([]))
"""


def bench_scale(world: World | None, plan: Plan) -> list[Row]:
    rows, detail = _scan_rows(plan)
    if world is not None:
        world.info["scale"] = detail
        rows.append(_parse_row(world, plan))
    return rows


def _scan_rows(plan: Plan) -> tuple[list[Row], dict[int, dict[str, float]]]:
    """reqfile.scan in-process: the rows, and the detail per size for the report."""
    from peep_hook.core import hashes, reqfile  # the checkout's, stdlib only

    log("scale: peep_hook.core.reqfile.scan in-process")
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
    return rows, world_info


def _parse_row(world: World, plan: Plan) -> Row:
    """pip's parse_requirements of a large file, hooked vs unhooked, in a child."""
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
    return paired_row(f"pip parse_requirements, {n:,} reqs: hooked peep vs unhooked --hash",
                      ms(res["A"], "hooked"), ms(res["B"], "unhooked"), goal_ratio=None)
