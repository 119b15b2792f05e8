"""Command line: ``peep-hook`` and ``python -m peep_hook``.

Exit status: 0 on success; 1 on a finding, a refused conversion, a file that
cannot be read, a global hook that cannot be changed, an interpreter that is
not protected (``status``), an environment that is not clean (``verify``) or
a requirement that could not be filled (``fill``); 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any, Sequence

from peep_hook import __version__
from peep_hook.commands import check, port
from peep_hook.core.hashes import hex_to_peep, sha256_of_file


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
        text = check.read_requirements_file(args.file)
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
    report = check.check(args.files)
    for finding in report.findings:
        print(finding)
    for note in report.notes:
        print(f"{note.filename}:{note.lineno}: note: {note.message}", file=sys.stderr)
    print(report.summary())
    return 1 if report.findings else 0


def _say(line: str) -> None:
    print(f"peep-hook: {line}")


def _enable(args: argparse.Namespace) -> int:
    from peep_hook.commands import global_hook

    try:
        detection = global_hook.enable(policy=args.policy, audit_log=args.audit_log, say=_say)
    except (global_hook.GlobalHookError, OSError) as exc:
        print(f"peep-hook: cannot enable the global hook: {exc}", file=sys.stderr)
        return 1
    base = getattr(sys, "_base_executable", None) or sys.executable
    if not _starts_in_a_fresh_process(base, detection.home):
        print(f"peep-hook: enabled, but a fresh {base} did not start the hook: is "
              "another sitecustomize earlier on sys.path (PYTHONPATH)? Check with "
              f"'{base} {detection.home} status'.", file=sys.stderr)
        return 1
    _say(f"global hook enabled; check any environment with 'python {detection.home} status'")
    return 0


def _starts_in_a_fresh_process(python: str, home: str) -> bool:
    # Looking pip up is what makes a waiting hook load its bootstrap.
    probe = ("import sys; from importlib.util import find_spec; find_spec('pip'); "
             "m = sys.modules.get('peep_hook.startup.bootstrap'); "
             "print(getattr(m, '_state', {}).get('global_home'))")
    env = dict(os.environ, PEEP_HOOK="strict")
    try:
        out = subprocess.run([python, "-c", probe], capture_output=True, text=True,
                             env=env, timeout=60, stdin=subprocess.DEVNULL).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out) and os.path.realpath(out) == os.path.realpath(home)


def _disable(args: argparse.Namespace) -> int:
    from peep_hook.commands import global_hook

    try:
        global_hook.disable(say=_say)
    except (global_hook.GlobalHookError, OSError) as exc:
        print(f"peep-hook: cannot disable the global hook: {exc}", file=sys.stderr)
        return 1
    return 0


def _status(args: argparse.Namespace) -> int:
    from peep_hook.commands import status

    info = status.collect()
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        sys.stdout.write(status.format_text(info))
    return 0 if info["protected"] else 1


def _verify(args: argparse.Namespace) -> int:
    from peep_hook.commands import verify

    for directory in [*(args.path or ()), *([args.archives] if args.archives else [])]:
        if not os.path.isdir(directory):
            print(f"peep-hook verify: {directory}: not a directory", file=sys.stderr)
            return 2
    if not args.deep and (args.archives or args.pip_args):
        print("peep-hook verify: --archives and pip's options need --deep", file=sys.stderr)
        return 2
    if args.archives and args.pip_args:
        print("peep-hook verify: --archives DIR is the only source of archives it is given; "
              "pip's options choose indexes without it", file=sys.stderr)
        return 2
    if args.deep and not (args.requirements or args.constraints):
        print("peep-hook verify: --deep needs -r or -c: the files' hashes are what it "
              "trusts", file=sys.stderr)
        return 2
    result = verify.verify(args.requirements or (), args.constraints or (),
                           site_dirs=args.path or None, allow_extra=args.allow_extra,
                           archives=args.archives, deep=args.deep,
                           built_wheels=args.built_wheels, pip_args=args.pip_args)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        sys.stdout.write(verify.format_text(result))
    return 0 if result.clean else 1


def _fill(args: argparse.Namespace) -> int:
    from peep_hook.commands.fill import command as fill

    settings = fill.Settings(
        pip_args=args.pip_args, all_files=args.all_files,
        build_constraints=args.build_constraints, dry_run=args.dry_run, update=args.update,
    )
    return fill.run(args.files, settings)


class _PipOption(argparse.Action):
    """Pass an option on to pip's own parser, in command-line order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        forwarded = list(getattr(namespace, "pip_args", None) or [])
        forwarded.append(str(option_string))
        if self.nargs != 0:
            forwarded.append(str(values))
        namespace.pip_args = forwarded


#: pip download's options that fill (and verify --deep) pass on to pip: (spellings,
#: metavar or None for a flag, help). First those that say where and how to fetch.
_PIP_ACCESS_OPTIONS: tuple[tuple[tuple[str, ...], str | None, str], ...] = (
    (("-i", "--index-url"), "URL", "base URL of the package index"),
    (("--extra-index-url",), "URL", "another index (repeatable)"),
    (("--no-index",), None, "use --find-links only"),
    (("-f", "--find-links"), "URL|DIR", "a page or directory of archives (repeatable)"),
    (("--trusted-host",), "HOST", "a host to trust without valid HTTPS"),
    (("--cert",), "PATH", "CA bundle"),
    (("--client-cert",), "PATH", "client certificate"),
    (("--proxy",), "PROXY", "proxy, as [user:passwd@]proxy.server:port"),
    (("--timeout",), "SEC", "socket timeout"),
    (("--retries",), "N", "retries per connection"),
    (("--isolated",), None, "ignore pip's environment variables and user configuration"),
    (("--no-cache-dir",), None, "do not use pip's HTTP cache"),
)
_FILL_PIP_OPTIONS = _PIP_ACCESS_OPTIONS + (
    (("--pre",), None, "include pre-releases"),
    (("--prefer-binary",), None, "prefer wheels to newer sdists"),
    (("--only-binary",), "FORMAT", "as pip's --only-binary"),
    (("--no-binary",), "FORMAT", "as pip's --no-binary"),
    (("--ignore-requires-python",), None, "ignore Requires-Python"),
    (("--python-version",), "VER", "fill for this Python version (as pip download)"),
    (("--platform",), "PLAT", "fill for this platform tag (repeatable, as pip download)"),
    (("--implementation",), "IMPL", "fill for this implementation (as pip download)"),
    (("--abi",), "ABI", "fill for this ABI (repeatable, as pip download)"),
)


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
    for add_command in (_add_hash, _add_port, _add_check, _add_enable, _add_disable,
                        _add_status, _add_verify, _add_fill):
        add_command(commands)
    return parser


def _add_hash(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _add_port(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check_cmd = commands.add_parser(
        "check",
        help="lint requirements files for hash problems, without installing",
        description="Report malformed or missing hashes, lines that look like hashes "
        "but are not, hashes that belong to nothing, duplicate and unpinned "
        "requirements, following local -r/-c files. Exit 1 on any finding.",
    )
    check_cmd.add_argument("files", nargs="+", metavar="FILE", help="requirements file")
    check_cmd.set_defaults(run=_check)


_GLOBAL_SCOPE_HELP = ("the global hook: this interpreter's standard library, reaching "
                      "every venv and virtualenv made from it (required)")


def _add_enable(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    enable_cmd = commands.add_parser(
        "enable",
        help="protect this base interpreter and every virtual environment made from it",
        description="Install the global hook (run as the administrator, with the base "
        "interpreter or a venv made from it): a sitecustomize.py in the standard "
        "library directory that starts peep-hook in that interpreter and in every "
        "venv and virtualenv made from it, before or after, with or without "
        "--system-site-packages. Copies of peep_hook and wrapt go to a private "
        "directory beside it. An existing sitecustomize.py keeps running first, and "
        "'disable --global' restores it exactly. Running it again refreshes the copies.",
    )
    enable_cmd.add_argument("--global", dest="global_", action="store_true", required=True,
                            help=_GLOBAL_SCOPE_HELP)
    enable_cmd.add_argument(
        "--policy", choices=("strict", "warn", "off"),
        help="pin the policy in the administrator's configuration file (PEEP_HOOK "
        "may then only make it stricter)",
    )
    enable_cmd.add_argument(
        "--audit-log", metavar="PATH",
        help="write one JSON line per decision to PATH, or to syslog with 'syslog' "
        "or 'syslog:SOCKET' (set in the configuration file; an empty PATH removes "
        "the setting)",
    )
    enable_cmd.set_defaults(run=_enable)


def _add_disable(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    disable_cmd = commands.add_parser(
        "disable",
        help="remove the global hook and restore the previous sitecustomize.py",
        description="Remove what 'enable --global' added (its sitecustomize.py, "
        "bytecode, private directory and configuration) and put back the "
        "sitecustomize.py it replaced, byte for byte. Does nothing if not enabled.",
    )
    disable_cmd.add_argument("--global", dest="global_", action="store_true", required=True,
                             help=_GLOBAL_SCOPE_HELP)
    disable_cmd.set_defaults(run=_disable)


def _add_status(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status_cmd = commands.add_parser(
        "status",
        help="tell whether this interpreter is protected, by what, under which policy",
        description="Report the hooks that reach this interpreter (peep_hook.pth in "
        "its site-packages, the global hook in its standard library), whether the "
        "hook started in this process, the policy in force and where it comes "
        "from, the audit log, and the installed pip and whether peep-hook supports "
        "it. Exit 0 when protected (hooked, strict), 1 when not. Where peep_hook "
        "is not importable (a venv covered by the global hook), run "
        "'python <stdlib>/peep-hook status'.",
    )
    status_cmd.add_argument("--json", action="store_true", help="print JSON")
    status_cmd.set_defaults(run=_status)


def _add_verify(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify_cmd = commands.add_parser(
        "verify",
        help="check that this environment is what its requirements files say, unmodified",
        description="Check every installed file against its distribution's RECORD "
        "(modified, missing and unlisted files), each .pyc against the code its source "
        "compiles to (run it with the environment's own Python), and each "
        "distribution's peep-hook install record. With -r/-c files: each distribution "
        "they name was installed from an archive whose hash they give, and nothing else "
        "is installed (pip, setuptools, wheel, peep-hook and wrapt excepted). Checks "
        "this interpreter's site-packages unless --path is given. --deep trusts nothing "
        "in site-packages: every installed file against the archive whose hash the "
        "files give, from pip's indexes (as pip would get it) or --archives DIR. "
        "Exit 0 when clean, 1 otherwise.",
    )
    verify_cmd.add_argument("-r", "--requirement", dest="requirements", action="append",
                            metavar="FILE", help="requirements file (repeatable)")
    verify_cmd.add_argument("-c", "--constraint", dest="constraints", action="append",
                            metavar="FILE", help="constraints file (repeatable)")
    verify_cmd.add_argument("--allow-extra", action="store_true",
                            help="accept distributions no file names, if peep-hook "
                            "installed them")
    verify_cmd.add_argument("--path", action="append", metavar="DIR",
                            help="check this site-packages (or --target) directory "
                            "instead (repeatable)")
    verify_cmd.add_argument("--deep", action="store_true",
                            help="trust nothing in site-packages: compare every installed "
                            "file with the archive whose hash the files give, got as pip "
                            "would get it (its configuration, indexes and HTTP cache), or "
                            "from --archives")
    verify_cmd.add_argument("--archives", metavar="DIR",
                            help="with --deep: take the archives from this directory only "
                            "(no index is asked)")
    verify_cmd.add_argument("--built-wheels", metavar="DIR",
                            help="with --deep: where the wheels built from verified sdists "
                            "at install are kept (default: $PEEP_HOOK_BUILT_WHEELS, else "
                            "peep-hook's directory in the user's cache)")
    verify_cmd.add_argument("--json", action="store_true", help="print JSON")
    _add_pip_options(verify_cmd.add_argument_group(
        "pip's options (with --deep)", "passed on to pip, whose configuration files, PIP_* "
        "variables and the files' own options apply too, with pip's precedence"),
        _PIP_ACCESS_OPTIONS)
    verify_cmd.set_defaults(run=_verify, pip_args=[])


def _add_fill(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fill_cmd = commands.add_parser(
        "fill",
        help="add the missing peep hash lines to requirements files",
        description="For each name==version requirement without a hash, in FILE and "
        "the local -r/-c files it includes, download the archive pip would install "
        "(pip's own finder, with pip's configuration, PIP_* variables, the files' "
        "options and the options below; for this Python or the target --python-version "
        "and --platform describe), hash it, and write '# sha256:' lines above the "
        "requirement. Nothing "
        "is installed or run; no other byte of a file changes. It trusts what the "
        "index serves today, as 'peep hash' did. Requirements whose marker excludes "
        "this Python are skipped unless --all-files. Prints each hash added "
        "(file:line as after filling); exit 1 if a requirement could not be filled.",
    )
    fill_cmd.add_argument("files", nargs="+", metavar="FILE", help="requirements file")
    pip_group = fill_cmd.add_argument_group(
        "pip's options", "passed on to pip, whose configuration files, PIP_* variables and "
        "the files' own options apply too, with pip's precedence")
    _add_pip_options(pip_group, _FILL_PIP_OPTIONS)
    fill_cmd.add_argument(
        "--all-files", action="store_true",
        help="hash every file of each release (every platform's wheels and the sdist), "
        "using the sha256 the index publishes and downloading only files without one",
    )
    fill_cmd.add_argument(
        "--build-constraints", metavar="FILE",
        help="pin the build dependencies of the files' sdists (and their dependencies) "
        "with hashes in FILE, a constraints file to pass with -c (created or updated; "
        "its other lines are kept)",
    )
    fill_cmd.add_argument("--update", action="store_true",
                          help="also replace hash lines that match no file of the pinned "
                          "release (stale after a version bump); keep the rest")
    fill_cmd.add_argument("--dry-run", action="store_true",
                          help="print what would be added; write nothing")
    fill_cmd.set_defaults(run=_fill, pip_args=[])


def _add_pip_options(group: Any, options: Sequence[tuple[tuple[str, ...], str | None, str]]
                     ) -> None:
    for spellings, metavar, text in options:
        if metavar is None:
            group.add_argument(*spellings, action=_PipOption, nargs=0, help=text)
        else:
            group.add_argument(*spellings, action=_PipOption, metavar=metavar, help=text)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)
