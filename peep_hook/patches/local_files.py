"""Local archives: hash and use the same bytes.

pip checks a local archive (a ``--find-links`` directory, a path, a ``file:``
URL, a file already in the download directory) where it lies, then opens it
again to unpack or install it. Whoever can write there can swap the file in
between. So each local archive is first copied into a private directory, and
pip checks and uses that copy only.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from pip._internal.models.link import Link
from pip._internal.utils.temp_dir import TempDirectory
from pip._internal.utils.urls import path_to_url

from peep_hook.patches.common import signature

_private: list[str] = []


def verify_private_copy(wrapped, instance, args, kwargs):
    """``prepare.get_file_url``: check and use a private copy of the file."""
    bound = signature(wrapped).bind(*args, **kwargs)
    link = bound.arguments["link"]
    if not bound.arguments.get("hashes") or link.is_existing_dir():
        return wrapped(*args, **kwargs)  # hashes are not checked here: nothing to protect
    bound.arguments["link"] = Link(path_to_url(private_copy(link.file_path)))
    return wrapped(*bound.args, **bound.kwargs)


def verify_download_dir_copy(wrapped, instance, args, kwargs):
    """``prepare._check_download_dir``: the same for a file already downloaded."""
    bound = signature(wrapped).bind(*args, **kwargs)
    link, download_dir = bound.arguments["link"], bound.arguments["download_dir"]
    original = os.path.join(download_dir, link.filename)
    inside = os.path.dirname(os.path.realpath(original)) == os.path.realpath(download_dir)
    if not bound.arguments.get("hashes") or not inside or not os.path.isfile(original):
        # Not a file of the download directory (a name with "../"): pip's own
        # check deals with it; never copy or delete anything outside it.
        return wrapped(*args, **kwargs)
    copy = private_copy(original)
    bound.arguments["download_dir"] = os.path.dirname(copy)
    found = wrapped(*bound.args, **bound.kwargs)
    if found is None and not os.path.exists(copy) and os.path.isfile(original):
        # pip deleted the copy for its bad hash: do to the file what pip does
        # without the hook, so that it is downloaded afresh.
        os.unlink(original)
    return found


def private_copy(path: str) -> str:
    """Copy ``path`` into a new directory only this user can enter; return the copy."""
    directory = tempfile.mkdtemp(prefix="copy-", dir=_private_root())
    copy = os.path.join(directory, os.path.basename(path))
    shutil.copyfile(path, copy)
    return copy


def _private_root() -> str:
    if not _private or not os.path.isdir(_private[-1]):
        try:
            # pip removes it when the command ends, as it does its own downloads.
            root = TempDirectory(kind="peep-hook-copies", globally_managed=True).path
        except Exception:  # no pip command around (pip driven in-process)
            root = tempfile.mkdtemp(prefix="pip-peep-hook-copies-")
            atexit.register(shutil.rmtree, root, True)
        os.chmod(root, 0o700)
        _private.append(root)
    return _private[-1]
