"""The results as tables: one text table for the terminal, and the
reStructuredText report (benchmarks/last-run.rst)."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from typing import Sequence

from benchmarks.cases import BENCHMARKS
from benchmarks.harness import Row, Series, source_description
from benchmarks.world import World

HEADERS = ("benchmark", "A median", "B median", "spread: IQR A; IQR B",
           "A/B", "A/B per round (IQR)", "A/B of min", "CPU A/B", "goal", "met?")


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
    """(the text for the terminal, the reStructuredText report)."""
    cells = [row_cells(r) for r in rows]
    missed = ", ".join(r.name for r in rows if r.met is False) or "none"
    notes = [f"{r.name}: {r.note}" for r in rows if r.note]
    load = (f"load average at start {loads[0][0]:.2f}/{loads[0][1]:.2f}/{loads[0][2]:.2f}, "
            f"at end {loads[1][0]:.2f}/{loads[1][1]:.2f}/{loads[1][2]:.2f}")
    text = [", ".join(f"{k}: {v}" for k, v in machine if k != "wheels"), "",
            text_table(HEADERS, cells), ""]
    text += [f"  {n}" for n in notes]
    text += ["", f"goals missed: {missed}", f"{load}; run took {elapsed / 60:.1f} min"]
    rst = _rst_head(machine, load, args, want, elapsed)
    rst += ["", "Results", "-------", "", _RESULTS_LEGEND, "", rst_table(HEADERS, cells), ""]
    if notes:
        rst += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    rst += [f"Goals missed: {missed}.", ""]
    rst += _rst_samples(rows) + _rst_world_detail(world)
    return "\n".join(text), "\n".join(rst)


_RESULTS_LEGEND = (
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
    "call inside the child.")


def _rst_head(machine: list[tuple[str, str]], load: str, args: argparse.Namespace,
              want: set[str], elapsed: float) -> list[str]:
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
    return rst


def _rst_samples(rows: list[Row]) -> list[str]:
    detail_headers = ("benchmark", "variant", "n", "median", "q1", "q3", "min", "max")
    detail = []
    for r in rows:
        for tag, s in (("A", r.a), ("B", r.b)):
            if s is None:
                continue
            q1, q3 = s.quartiles
            detail.append([r.name, f"{tag}: {s.label}", str(len(s.values)), fmt(s.median, s.unit),
                           fmt(q1), fmt(q3), fmt(min(s.values)), fmt(max(s.values))])
    if not detail:
        return []
    return ["All samples", "-----------", "", rst_table(detail_headers, detail), ""]


def _rst_world_detail(world: World | None) -> list[str]:
    """The import time of each peep_hook module, and the scale benchmark's detail."""
    rst: list[str] = []
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
    return rst
