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
scale         peep_hook.core.reqfile.scan, then every block read as the hook reads
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
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

# Run as a script, Python puts benchmarks/ on sys.path: the repository (for
# the benchmarks package and tests._support) goes before it.
_REPOSITORY = str(Path(__file__).resolve().parent.parent)
if _REPOSITORY not in sys.path:
    sys.path.insert(0, _REPOSITORY)

from benchmarks import cases, realworld  # noqa: E402
from benchmarks.cases import BENCHMARKS, OPTIONAL  # noqa: E402
from benchmarks.harness import FULL, QUICK, ROOT, BenchError, log  # noqa: E402
from benchmarks.tables import describe_machine, report  # noqa: E402
from benchmarks.world import setup_world  # noqa: E402

DEFAULT_RST = ROOT / "benchmarks" / "last-run.rst"


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
    started = time.perf_counter()
    loads = [os.getloadavg()]
    tmp = Path(tempfile.mkdtemp(prefix="peep-hook-bench-"))
    world = None
    try:
        # Every benchmark needs the venvs (scale's in-process rows do not, but
        # its parse_requirements row does); startup-pythons needs only the wheel.
        if args.want - set(OPTIONAL):
            world = setup_world(tmp, args, plan, args.want)
        rows = cases.run(world, tmp, args, plan)
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
    text, rst = report(rows, describe_machine(args, world), tuple(loads), world, args, args.want,
                       elapsed)
    print(text)
    if args.rst is not None:
        args.rst.write_text(rst)
        log(f"wrote {args.rst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
