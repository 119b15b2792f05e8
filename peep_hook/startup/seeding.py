"""virtualenv's seeding under the global hook: virtualenv's own wheels only.

virtualenv's default seeder installs pip, setuptools and wheel without running
pip: from the wheels embedded in its package, from a newer one that a periodic
update put in its app-data, or from one found in an ``--extra-search-dir``.
Under a global hook the bootstrap wraps ``virtualenv.seed.wheels.get_wheel``
(which every seeder asks) and each wheel it returns must be, by content, one
of the wheels embedded in the installed virtualenv as its ``RECORD`` lists
them (the rule ``virtualenv --seeder pip`` meets in pip, hook/enforce.py),
or one that virtualenv's ``download_wheel`` had pip fetch in this process
(``--download``): that pip is this interpreter's, hooked, so it fetched only
what hashed pins in pip's configuration allow. Anything else stops virtualenv
before the wheel is unpacked.

Standard library only: virtualenv's process has no pip.
"""

from __future__ import annotations

import csv
import glob
import os
import sys

from peep_hook.core import policy
from peep_hook.core.hashes import peep_to_hex, sha256_of_file

#: Where virtualenv keeps the wheels it seeds environments with, in its package.
VIRTUALENV_EMBED = "virtualenv/seed/wheels/embed"


#: sha256 of the wheels virtualenv's ``download_wheel`` had pip fetch in this
#: process: this interpreter's pip, hooked, checked them against the hashes in
#: pip's configuration (``virtualenv --download``).
_downloaded: set[str] = set()


def downloaded_by_pip(wheel: str) -> None:
    _downloaded.add(sha256_of_file(wheel))


class SeedRefused(RuntimeError):
    """virtualenv chose a wheel that is not one of its own."""


def embedded_wheels(directory: str) -> dict[str, str]:
    """The wheels in ``directory``, if it is the embed directory of an
    installed virtualenv, whose content matches that virtualenv's RECORD:
    file name -> sha256."""
    suffix = os.sep + VIRTUALENV_EMBED.replace("/", os.sep)
    if not directory.endswith(suffix):
        return {}
    listed: dict[str, str] = {}
    site = directory[: -len(suffix)]
    for record in glob.glob(os.path.join(glob.escape(site), "virtualenv-*.dist-info", "RECORD")):
        try:
            with open(record, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        for row in rows:
            if len(row) < 2 or not row[1].startswith("sha256="):
                continue
            folder, _, filename = row[0].rpartition("/")
            if folder == VIRTUALENV_EMBED and filename.endswith(".whl"):
                try:
                    listed[filename] = peep_to_hex(row[1][len("sha256="):])
                except ValueError:
                    continue
    return {
        filename: digest for filename, digest in listed.items()
        if os.path.isfile(os.path.join(directory, filename))
        and sha256_of_file(os.path.join(directory, filename)) == digest
    }


def check_seed_wheel(wheel: str, seed_package: str, config_path: str | None) -> None:
    """Let virtualenv seed ``wheel`` only if it is one of the wheels embedded in
    the virtualenv whose ``virtualenv.seed.wheels`` package is in ``seed_package``."""
    try:
        setting = policy.current(config_path=config_path)
    except policy.ConfigError as exc:
        raise SeedRefused(f"peep-hook: {exc}; virtualenv seeds nothing until it is fixed.") from exc
    if setting.mode == policy.OFF:
        return
    embed = os.path.join(seed_package, "embed")
    digest = sha256_of_file(wheel)
    if digest in _downloaded or digest in embedded_wheels(embed).values():
        return
    message = (
        f"peep-hook: virtualenv would seed {wheel} (sha256 {digest}), which is not one "
        f"of the wheels embedded in virtualenv ({embed}, by content), and no hash "
        "verifies it. Under the global hook, virtualenv seeds only its own embedded "
        "wheels, or those pip downloads for it (--download) and checks against hashed "
        "pins in pip's configuration: drop --extra-search-dir (if the wheel is there), "
        "or clear virtualenv's app-data with --reset-app-data and pass "
        "--no-periodic-update (if an update put it there)."
    )
    if setting.mode == policy.WARN:
        sys.stderr.write(f"WARNING: {message}\n(peep-hook policy is warn: strict would "
                         "stop here; going on.)\n")
        return
    sys.stderr.write(f"ERROR: {message}\n")
    raise SeedRefused(message)
