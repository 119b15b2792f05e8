"""Local archives: decide once, hash and use the same bytes.

pip looks at a local archive (a ``--find-links`` entry, a path, a ``file:``
URL, a file already in the download directory) several times where it lies:
whether it is a directory, then its hash, then it opens it again to unpack or
install it. Whoever can write there can change it in between. So:

* whether a local path is a directory is decided at the first look, and every
  later look in the command gets that answer (``Link.is_existing_dir``);
* each local archive is opened once; unless that open file is a regular file
  (a device, a named pipe, a socket, a directory) it is refused at once; what
  it holds is copied from that one open file into a private directory, and
  pip checks and uses that copy only;
* an entry of the download directory that is a link (symbolic or hard) is
  replaced, once checked, by a file of its own holding the verified bytes, so
  that the directory keeps what was checked and nothing outside it changes.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import stat
import tempfile
from typing import Any

from pip._internal.exceptions import HashMismatch
from pip._internal.models.link import Link
from pip._internal.utils.misc import redact_auth_from_url
from pip._internal.utils.temp_dir import TempDirectory
from pip._internal.utils.unpacking import current_umask
from pip._internal.utils.urls import path_to_url

from peep_hook.hook.state import HookError, audit_event, logger, refuse, signature, state

_private: list[str] = []

#: path -> whether it is a directory, as first seen in this command
_decided: dict[str, bool] = {}

#: os.open flags: never wait on a named pipe; never leak the descriptor
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
          (stat.S_ISSOCK, "a socket"))


def decide_once(wrapped, instance, args, kwargs):
    """``Link.is_existing_dir``: the first answer for a local path stands.

    The hook's guard decides from it whether a link is the user's source tree
    or an archive to hash; pip asks again later (to build in place, to copy a
    tree, to skip unpacking). A path swapped from a file to a directory in
    between must not be built unchecked: pip goes on with the first answer,
    and reading the path as an archive then refuses it (not a regular file).
    """
    if not instance.is_file:
        return wrapped(*args, **kwargs)
    path = instance.file_path
    decided = _decided.get(path)
    if decided is None:
        decided = _decided[path] = wrapped(*args, **kwargs)
    return decided


def verify_private_copy(wrapped, instance, args, kwargs):
    """``prepare.get_file_url``: check and use a private copy of the file."""
    bound = signature(wrapped).bind(*args, **kwargs)
    link = bound.arguments["link"]
    if not bound.arguments.get("hashes") or link.is_existing_dir():
        return wrapped(*args, **kwargs)  # hashes are not checked here: nothing to protect
    bound.arguments["link"] = Link(path_to_url(private_copy(link.file_path)))
    return wrapped(*bound.args, **bound.kwargs)


def verify_download_dir_copy(wrapped, instance, args, kwargs):
    """``prepare._check_download_dir``: a file already in the download
    directory, whatever the entry is, is checked and used through a private
    copy; on a bad hash the entry (never what it links to) is removed and the
    archive fetched afresh, as pip does. pip's own messages, with the user's path."""
    bound = signature(wrapped).bind(*args, **kwargs)
    link, directory = bound.arguments["link"], bound.arguments["download_dir"]
    hashes = bound.arguments.get("hashes")
    if not hashes:
        return wrapped(*args, **kwargs)  # hashes are not checked here: nothing to protect
    name = link.filename
    if name in ("", ".", "..") or any(c and c in name for c in (os.sep, os.altsep, "\0")):
        refuse(f"peep-hook: refusing {redact_auth_from_url(link.url)}: its file name "
               f"{name!r} leads out of the download directory {directory}.", state.preparing)
        return wrapped(*args, **kwargs)  # warn: pip's own check
    entry = os.path.join(directory, name)
    try:
        seen = os.lstat(entry)
    except FileNotFoundError:
        return None
    pip_log = logging.getLogger(wrapped.__module__)
    if stat.S_ISLNK(seen.st_mode) and not os.path.exists(entry):
        # A link to nothing: pip would save the download through it, outside
        # the directory. It goes, like an entry with a bad hash.
        os.unlink(entry)
        logger.info("peep-hook: removed %s, a link to nothing; fetching it afresh.", entry)
        return None
    copy = private_copy(entry)
    pip_log.info("File was already downloaded %s", entry)
    try:
        hashes.check_against_path(copy)
    except HashMismatch:
        if bound.arguments.get("warn_on_hash_mismatch", True):
            pip_log.warning("Previously-downloaded file %s has bad hash. Re-downloading.", entry)
        os.unlink(entry)
        return None
    if stat.S_ISLNK(seen.st_mode) or seen.st_nlink > 1:
        _replace_link(entry, copy)
    return copy


def private_copy(path: str) -> str:
    """Open ``path`` once, refuse it unless it is a regular file, and copy
    what that open file holds into a new directory only this user can enter;
    return the copy. The copy is never longer than the file's size when opened."""
    _require_regular(os.stat(path), path)  # a device is not even opened
    with os.fdopen(os.open(path, _OPEN_FLAGS), "rb") as source:
        opened = os.fstat(source.fileno())
        _require_regular(opened, path)  # what was opened, whatever the path is now
        directory = tempfile.mkdtemp(prefix="copy-", dir=_private_root())
        if shutil.disk_usage(directory).free < opened.st_size:
            _refuse_now(f"peep-hook: no room for a private copy of {path} "
                        f"({opened.st_size} bytes) in {os.path.dirname(directory)}: "
                        "pip checks and uses only such a copy of a local archive.")
        copy = os.path.join(directory, os.path.basename(path))
        with open(copy, "xb") as target:
            copied = _copy_at_most(source, target, opened.st_size + 1)
    if copied != opened.st_size:
        _refuse_now(f"peep-hook: {path} changed while it was read ({opened.st_size} bytes "
                    f"when opened, {copied} read); pip does not use an archive that "
                    "changes under it.")
    return copy


def _copy_at_most(source: Any, target: Any, limit: int) -> int:
    copied = 0
    while copied < limit:
        chunk = source.read(min(1 << 20, limit - copied))
        if not chunk:
            break
        target.write(chunk)
        copied += len(chunk)
    return copied


def _require_regular(info: os.stat_result, path: str) -> None:
    """Refuse ``path`` at once unless ``info`` is a regular file's: nothing
    else can be an archive, and reading it may never end (``/dev/zero``) or
    never start (a named pipe)."""
    if stat.S_ISREG(info.st_mode):
        return
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
    shown = f"{path} (a link to {os.path.realpath(path)})" if os.path.islink(path) else path
    _refuse_now(
        f"peep-hook: {shown} is {kind}, not a regular file: it cannot be an archive, "
        "so pip reads nothing from it. Whoever can write to "
        f"{os.path.dirname(path) or '.'} could have put it there. Remove it, or point "
        "pip at a directory holding only archives."
    )


def _refuse_now(message: str) -> None:
    """Refuse in every policy mode: pip could not go on with this either."""
    audit_event("refused", state.preparing, reason=message)
    raise HookError(message)


def _replace_link(entry: str, copy: str) -> None:
    """Put a file of its own holding the verified ``copy`` where the link
    ``entry`` was: renamed over the link, so what it pointed to is never written."""
    fd, part = tempfile.mkstemp(prefix=".peep-hook-", suffix=".part",
                                dir=os.path.dirname(entry))
    try:
        with os.fdopen(fd, "wb") as target, open(copy, "rb") as source:
            shutil.copyfileobj(source, target)
        os.chmod(part, 0o666 & ~current_umask())
        os.replace(part, entry)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    logger.info("peep-hook: %s was a link; it now holds the archive as checked.", entry)


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
