"""Command line: ``peep-hook`` and ``python -m peep_hook``.

Exit status: 0 on success, 1 when a file cannot be read, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from peep_hook import __version__
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)
