"""The global hook: one install that protects an interpreter and every venv made from it.

``peep-hook enable --global``, run by an administrator with a base interpreter,
copies :mod:`peep_hook.startup.sitecustomize`, byte for byte, into that interpreter's
standard library directory. Python imports it at start-up in the base
interpreter and in every ``python -m venv`` and ``virtualenv`` environment made
from it, before or after enabling, with or without ``--system-site-packages``
(a venv shares its base's standard library). The file is standard library
only; it finds everything from its own location, runs the
``sitecustomize.py`` it replaced, then waits on ``sys.meta_path`` for pip to be
looked up; only then does it load ``peep_hook/startup/bootstrap.py`` from a private
directory beside it and call ``start(global_home=...)``. Nothing is put
on ``sys.path``: wrapt and the patches load only inside pip, as with the
per-environment ``.pth``.

Layout, in the interpreter's stdlib directory::

    sitecustomize.py                 peep_hook/startup/sitecustomize.py (first line: MARKER)
    __pycache__/sitecustomize.*.pyc  its bytecode (the previous ones are kept)
    peep-hook/                       HOME: a name that cannot be imported
        peep_hook/  wrapt/           copies of the enabling interpreter's packages
        __main__.py                  so ``python <stdlib>/peep-hook status`` works anywhere
        peep-hook.ini                the administrator's configuration (optional)
        state.json                   what enable found and did
        saved-sitecustomize/         the previous sitecustomize.py, exactly (a hard
                                     link to it: same bytes, mode, owner, mtime, and
                                     a symlink stays a symlink), and its bytecode

``disable --global`` puts the saved file back in one rename and removes the
rest. Both commands are idempotent.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import py_compile
import shutil
import stat
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from importlib.util import cache_from_source, find_spec
from typing import Callable, Dict, List, Optional

from peep_hook import __version__
from peep_hook.startup import sitecustomize as hook_file
from peep_hook.startup.bootstrap import CONFIG_NAME

#: First line of the global sitecustomize.py: how enable and disable know it.
MARKER = "# peep-hook global hook"
HOME_NAME = hook_file.PEEP_HOOK_HOME
#: The previous sitecustomize.py is kept under the same name.
SAVED_DIR, SITECUSTOMIZE = hook_file.PEEP_HOOK_SAVED
PYCACHE_SAVED = "pycache"
STATE_NAME = "state.json"
PACKAGES = ("peep_hook", "wrapt")

_DIR_MODE = 0o755
_FILE_MODE = 0o644

_MAIN_TEXT = '''\
"""Run peep-hook's command line from the global hook's directory:
``python <stdlib>/peep-hook status`` works in the base interpreter and in every
venv made from it, where peep_hook is not importable otherwise."""
import sys

from peep_hook.commands.cli import main

sys.exit(main())
'''


class GlobalHookError(Exception):
    """enable or disable cannot proceed; nothing half-done is left active."""


@dataclass
class Detection:
    """What is in an interpreter's stdlib directory."""

    stdlib: str
    sitecustomize: str
    home: str
    #: the stdlib sitecustomize.py is the generated one
    ours: bool
    #: ours, and its directory holds the bootstrap: it starts in every process
    enabled: bool
    #: what stands at sitecustomize.py now: "file", "symlink" or None
    current: Optional[str]
    #: the previous sitecustomize.py kept by enable: "file", "symlink" or None
    saved: Optional[str]
    config_path: str
    state: Dict[str, object] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, object]:
        return {
            "enabled": self.enabled,
            "stdlib": self.stdlib,
            "sitecustomize": self.sitecustomize,
            "home": self.home,
            "previous_sitecustomize": self.saved,
            "config": self.config_path,
            "config_exists": os.path.exists(self.config_path),
            "peep_hook_version": self.state.get("peep_hook_version"),
            "wrapt_version": self.state.get("wrapt_version"),
            "problems": list(self.problems),
        }


def sitecustomize_source() -> bytes:
    """The global hook's sitecustomize.py, exactly as enable copies it."""
    with open(hook_file.__file__, "rb") as f:
        return f.read()


def bootstrap_file(home: str) -> str:
    """The bootstrap the global hook in ``home`` loads."""
    return os.path.join(home, *hook_file.PEEP_HOOK_BOOTSTRAP_FILE)


def stdlib_dir() -> str:
    """The standard library directory of this interpreter (its base's, in a venv)."""
    return sysconfig.get_paths()["stdlib"]


def _kind(path: str) -> Optional[str]:
    if os.path.islink(path):
        return "symlink"
    if os.path.isfile(path):
        return "file"
    return None


def is_ours(path: str) -> bool:
    if _kind(path) != "file":
        return False
    try:
        with open(path, "rb") as f:
            return f.read(len(MARKER)) == MARKER.encode()
    except OSError:
        return False


def detect(stdlib: Optional[str] = None) -> Detection:
    stdlib = stdlib or stdlib_dir()
    site_file = os.path.join(stdlib, SITECUSTOMIZE)
    home = os.path.join(stdlib, HOME_NAME)
    ours = is_ours(site_file)
    state = _read_state(home)
    problems = []
    bootstrap = bootstrap_file(home)
    if ours and not os.path.isfile(bootstrap):
        problems.append(f"{bootstrap} is missing: pip refuses to fetch until "
                        "'enable --global' is run again")
    if not ours and os.path.isdir(home):
        problems.append(f"{site_file} is not peep-hook's (replaced after enabling?): "
                        f"{home} is not used; run 'enable --global' again")
    return Detection(
        stdlib=stdlib,
        sitecustomize=site_file,
        home=home,
        ours=ours,
        enabled=ours and os.path.isfile(bootstrap),
        current=_kind(site_file),
        saved=_kind(os.path.join(home, SAVED_DIR, SITECUSTOMIZE)),
        config_path=os.path.join(home, CONFIG_NAME),
        state=state,
        problems=problems,
    )


def _read_state(home: str) -> Dict[str, object]:
    try:
        with open(os.path.join(home, STATE_NAME), encoding="utf-8") as f:
            state = json.load(f)
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


# -- enable ---------------------------------------------------------------------


def package_sources() -> Dict[str, str]:
    """Where this interpreter's peep_hook and wrapt packages are (not imported)."""
    sources = {"peep_hook": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    spec = find_spec("wrapt")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise GlobalHookError(
            "wrapt is not installed for this interpreter: install peep-hook with its "
            "dependencies (pip install peep-hook) and run this again"
        )
    sources["wrapt"] = locations[0]
    return sources


def enable(stdlib: Optional[str] = None, *, sources: Optional[Dict[str, str]] = None,
           policy: Optional[str] = None, audit_log: Optional[str] = None,
           say: Callable[[str], None] = lambda line: None) -> Detection:
    """Install or refresh the global hook. Idempotent.

    ``sources`` maps "peep_hook" and "wrapt" to the package directories to copy
    (default: this interpreter's). ``policy`` and ``audit_log``, when given, are
    written to the administrator's configuration file.
    """
    stdlib = stdlib or stdlib_dir()
    sources = sources or package_sources()
    home = os.path.join(stdlib, HOME_NAME)
    if not os.path.isdir(stdlib):
        raise GlobalHookError(f"{stdlib} is not a directory")
    _makedir(home)
    _install_packages(home, sources, say)
    _record_state(stdlib, home, _version_of(sources["wrapt"]), say)
    if policy is not None or audit_log is not None:
        _write_config(os.path.join(home, CONFIG_NAME), policy, audit_log)
        say(f"wrote {os.path.join(home, CONFIG_NAME)}")
    _install_sitecustomize(stdlib, say)
    return detect(stdlib)


def _install_packages(home: str, sources: Dict[str, str], say: Callable[[str], None]) -> None:
    for name in PACKAGES:
        _install_copy(sources[name], os.path.join(home, name))
    _write_text(os.path.join(home, "__main__.py"), _MAIN_TEXT)
    _compile_tree(home)
    say(f"copied peep-hook {__version__} and wrapt {_version_of(sources['wrapt'])} to {home}")


def _record_state(stdlib: str, home: str, wrapt_version: str,
                  say: Callable[[str], None]) -> None:
    """Keep the previous sitecustomize.py (the first time), and say what was done."""
    site_file = os.path.join(stdlib, SITECUSTOMIZE)
    state = _read_state(home)
    if not is_ours(site_file):
        state["created_pycache"] = not os.path.isdir(os.path.join(stdlib, "__pycache__"))
        state["previous_sitecustomize"] = _save_previous(stdlib, home)
        previous = state["previous_sitecustomize"]
        if isinstance(previous, dict):
            say(f"kept the previous {site_file} ({_describe(previous)}) in "
                f"{os.path.join(home, SAVED_DIR)}; it still runs first")
    state.update(
        format=1,
        peep_hook_version=__version__,
        wrapt_version=wrapt_version,
        python=sys.version.split()[0],
        enabled_by=sys.executable,
        enabled_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    _write_text(os.path.join(home, STATE_NAME), json.dumps(state, indent=2, sort_keys=True) + "\n")


def _install_sitecustomize(stdlib: str, say: Callable[[str], None]) -> None:
    """Put the global sitecustomize.py in place (last: it starts the hook)."""
    site_file = os.path.join(stdlib, SITECUSTOMIZE)
    source = sitecustomize_source()
    if not _same_content(site_file, source):
        _write_bytes(site_file, source)  # atomic: a rename over the old one
    _compile(site_file, own_dir=False)
    say(f"{site_file} starts peep-hook in this interpreter and every venv made from it")


def _version_of(package_dir: str) -> str:
    """A package's version from the metadata beside it, without importing it."""
    try:
        from importlib.metadata import PathDistribution
        from pathlib import Path

        parent, name = os.path.split(os.path.abspath(package_dir))
        for entry in sorted(os.listdir(parent)):
            if entry.endswith(".dist-info") and entry.split("-")[0].lower() == name.lower():
                return PathDistribution(Path(parent, entry)).version
    except Exception:
        pass
    return "(version unknown)"


def _describe(previous: Dict[str, object]) -> str:
    if previous.get("kind") == "symlink":
        return f"a symlink to {previous.get('target')}"
    return f"a file, sha256 {previous.get('sha256')}"


def _save_previous(stdlib: str, home: str) -> Optional[Dict[str, object]]:
    """Keep the current sitecustomize.py (not ours) and its bytecode, exactly."""
    site_file = os.path.join(stdlib, SITECUSTOMIZE)
    saved_dir = os.path.join(home, SAVED_DIR)
    if os.path.lexists(saved_dir):
        shutil.rmtree(saved_dir)  # stale: what stands in the stdlib now is the truth
    kind = _kind(site_file)
    if kind is None:
        return None
    _makedir(saved_dir)
    saved = os.path.join(saved_dir, SITECUSTOMIZE)
    _link_or_copy(site_file, saved)
    record: Dict[str, object] = {"kind": kind}
    if kind == "symlink":
        record["target"] = os.readlink(site_file)
    else:
        with open(site_file, "rb") as f:
            record["sha256"] = hashlib.sha256(f.read()).hexdigest()
    pycache = os.path.join(stdlib, "__pycache__")
    kept = []
    for name in _sitecustomize_bytecode(pycache):
        _makedir(os.path.join(saved_dir, PYCACHE_SAVED))
        os.replace(os.path.join(pycache, name), os.path.join(saved_dir, PYCACHE_SAVED, name))
        kept.append(name)
    record["bytecode"] = kept
    return record


def _link_or_copy(source: str, target: str) -> None:
    """``target`` becomes ``source`` exactly: a hard link to the same inode
    (a symlink's own inode), else a copy (symlink recreated, file with copy2)."""
    try:
        os.link(source, target, follow_symlinks=False)
        return
    except (OSError, NotImplementedError):
        pass
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
    else:
        shutil.copy2(source, target)


def _sitecustomize_bytecode(pycache: str) -> List[str]:
    try:
        names = os.listdir(pycache)
    except OSError:
        return []
    return sorted(n for n in names if n.startswith("sitecustomize.") and n.endswith(".pyc"))


def _install_copy(source: str, target: str) -> None:
    """Replace directory ``target`` by a readable copy of ``source``."""
    parent, name = os.path.split(target)
    fresh = os.path.join(parent, f".{name}.new")
    stale = os.path.join(parent, f".{name}.old")
    for leftover in (fresh, stale):
        if os.path.lexists(leftover):
            shutil.rmtree(leftover)
    shutil.copytree(source, fresh, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _make_readable(fresh)
    if os.path.lexists(target):
        os.rename(target, stale)
    os.rename(fresh, target)
    if os.path.lexists(stale):
        shutil.rmtree(stale)


def _make_readable(top: str) -> None:
    """Every user's Python reads this; whatever the administrator's umask, it
    must be readable by all and writable by none but its owner."""
    os.chmod(top, _DIR_MODE)
    for root, dirs, files in os.walk(top):
        for name in dirs:
            os.chmod(os.path.join(root, name), _DIR_MODE)
        for name in files:
            path = os.path.join(root, name)
            executable = os.stat(path).st_mode & stat.S_IXUSR
            os.chmod(path, _DIR_MODE if executable else _FILE_MODE)


def _compile_tree(home: str) -> None:
    """Bytecode for every user (who cannot write it): start-up then reads it."""
    for root, dirs, files in os.walk(home):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", SAVED_DIR)]
        for name in files:
            if name.endswith(".py"):
                _compile(os.path.join(root, name))


def _compile(path: str, *, own_dir: bool = True) -> None:
    """Write ``path``'s bytecode; ``own_dir``: its __pycache__ is ours to chmod."""
    try:
        cfile = cache_from_source(path)
        py_compile.compile(path, cfile=cfile, doraise=True)
    except (py_compile.PyCompileError, OSError, NotImplementedError):
        return  # Python compiles it at start-up instead
    _make_readable_file(cfile)
    if own_dir:
        _make_readable_dir(os.path.dirname(cfile))


def _make_readable_file(path: str) -> None:
    try:
        os.chmod(path, _FILE_MODE)
    except OSError:
        pass


def _make_readable_dir(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
        os.chmod(path, mode | 0o555)
    except OSError:
        pass


def _makedir(path: str) -> None:
    os.makedirs(path, exist_ok=True)
    os.chmod(path, _DIR_MODE)


def _same_content(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read() == data
    except OSError:
        return False


def _write_text(path: str, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: str, data: bytes) -> None:
    """Write ``path`` atomically (a rename), readable by all."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.peep-hook-tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, _FILE_MODE)
    os.replace(tmp, path)


def _write_config(path: str, policy: Optional[str], audit_log: Optional[str]) -> None:
    parser = configparser.ConfigParser()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    if not parser.has_section("peep-hook"):
        parser.add_section("peep-hook")
    if policy is not None:
        parser.set("peep-hook", "policy", policy)
    if audit_log is not None:
        if audit_log:
            parser.set("peep-hook", "audit_log", audit_log)
        else:
            parser.remove_option("peep-hook", "audit_log")
    from io import StringIO

    text = StringIO()
    parser.write(text)
    _write_text(path, text.getvalue())


# -- disable --------------------------------------------------------------------


def disable(stdlib: Optional[str] = None, *,
            say: Callable[[str], None] = lambda line: None) -> Detection:
    """Remove the global hook and restore the previous sitecustomize.py. Idempotent."""
    stdlib = stdlib or stdlib_dir()
    site_file = os.path.join(stdlib, SITECUSTOMIZE)
    home = os.path.join(stdlib, HOME_NAME)
    changed = False
    if is_ours(site_file):
        _restore_previous(stdlib, home, say)
        changed = True
    elif os.path.isdir(home) and os.path.lexists(site_file):
        say(f"{site_file} is not peep-hook's: left as it is")
    if os.path.isdir(home):
        config = os.path.join(home, CONFIG_NAME)
        if os.path.exists(config):
            say(f"removed the configuration {config}")
        shutil.rmtree(home)
        say(f"removed {home}")
        changed = True
    if not changed:
        say("the global hook was not enabled; nothing to do")
    return detect(stdlib)


def _restore_previous(stdlib: str, home: str, say: Callable[[str], None]) -> None:
    """Put back the sitecustomize.py and bytecode enable kept, or remove ours."""
    site_file = os.path.join(stdlib, SITECUSTOMIZE)
    pycache = os.path.join(stdlib, "__pycache__")
    saved_dir = os.path.join(home, SAVED_DIR)
    saved = os.path.join(saved_dir, SITECUSTOMIZE)
    state = _read_state(home)
    if state.get("previous_sitecustomize") and not os.path.lexists(saved):
        raise GlobalHookError(
            f"{saved} is missing, so the previous sitecustomize.py cannot be "
            f"restored; nothing was changed. Restore it by hand, then run this again."
        )
    _remove_bytecode(pycache)
    if os.path.lexists(saved):
        os.replace(saved, site_file)
        say(f"restored the previous {site_file}")
    else:
        os.unlink(site_file)
        say(f"removed {site_file}")
    _remove_bytecode(pycache)  # any written for ours in the meantime
    kept = os.path.join(saved_dir, PYCACHE_SAVED)
    for name in _sitecustomize_bytecode(kept):
        os.replace(os.path.join(kept, name), os.path.join(pycache, name))
    if state.get("created_pycache"):
        try:
            os.rmdir(pycache)  # only if empty
        except OSError:
            pass


def _remove_bytecode(pycache: str) -> None:
    for name in _sitecustomize_bytecode(pycache):
        try:
            os.unlink(os.path.join(pycache, name))
        except FileNotFoundError:
            pass
