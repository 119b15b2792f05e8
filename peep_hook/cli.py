"""Command line: ``peep-hook`` and ``python -m peep_hook``.

Exit status: 0 on success; 1 on a finding, a refused conversion or a file that
cannot be read; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from peep_hook import __version__, lint, port
from peep_hook.hashes import hex_to_peep, sha256_of_file


def _hash(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            hex_digest = sha256_of_file(path)
        except OSError as exc:
            print(f"peep-hook: cannot read {path}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        if args.pip:
            print(f"--hash=sha256:{hex_digest}")
        else:
            print(f"# sha256: {hex_to_peep(hex_digest)}")
    return status


def _port(args: argparse.Namespace) -> int:
    try:
        text = lint.read_requirements_file(args.file)
    except (OSError, ValueError) as exc:
        _cannot_read(args.file, exc)
        return 1
    convert = port.to_peep if args.to == "peep" else port.to_pip
    try:
        ported = convert(text)
    except port.PortError as exc:
        for lineno, message in exc.problems:
            print(f"{args.file}:{lineno}: {message}", file=sys.stderr)
        return 1
    for lineno, message in ported.warnings:
        print(f"{args.file}:{lineno}: warning: {message}", file=sys.stderr)
    sys.stdout.write(ported.text)
    return 0


def _check(args: argparse.Namespace) -> int:
    report = lint.check(args.files)
    for finding in report.findings:
        print(finding)
    for note in report.notes:
        print(f"{note.filename}:{note.lineno}: note: {note.message}", file=sys.stderr)
    print(report.summary())
    return 1 if report.findings else 0


def _cannot_read(path: str, exc: BaseException) -> None:
    reason = getattr(exc, "strerror", None) or str(exc)
    print(f"peep-hook: cannot read {path}: {reason}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peep-hook",
        description="peep-format hash checking for an unchanged pip install.",
    )
    parser.add_argument("--version", action="version", version=f"peep-hook {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    hash_cmd = commands.add_parser(
        "hash",
        help="print the peep hash line of local archives",
        description="Print '# sha256: <hash>' for each archive, ready to paste "
        "above its requirement.",
    )
    hash_cmd.add_argument("files", nargs="+", metavar="FILE", help="archive to hash")
    hash_cmd.add_argument(
        "--pip", action="store_true", help="print pip's --hash=sha256:<hex> form instead"
    )
    hash_cmd.set_defaults(run=_hash)

    port_cmd = commands.add_parser(
        "port",
        help="convert a requirements file between peep's and pip's hash forms",
        description="Print FILE with each peep block of '# sha256:' lines turned "
        "into pip's --hash options on its requirement (or, with --to peep, the "
        "reverse). Comments, options, markers and URL requirements are kept.",
    )
    port_cmd.add_argument("file", metavar="FILE", help="requirements file to convert")
    port_cmd.add_argument(
        "--to", choices=("pip", "peep"), default="pip",
        help="the form to write (default: pip)",
    )
    port_cmd.set_defaults(run=_port)

    check_cmd = commands.add_parser(
        "check",
        help="lint requirements files for hash problems, without installing",
        description="Report malformed or missing hashes, lines that look like hashes "
        "but are not, hashes that belong to nothing, duplicate and unpinned "
        "requirements, following local -r/-c files. Exit 1 on any finding.",
    )
    check_cmd.add_argument("files", nargs="+", metavar="FILE", help="requirements file")
    check_cmd.set_defaults(run=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)
