"""Byte code against its source: does a ``.pyc`` hold what its source compiles to?

A ``.pyc`` runs instead of its source whenever its header matches the source
(timestamp and size, or a hash), or always (an unchecked hash-based ``.pyc``),
and the header says nothing about the code that follows. Whoever can set a
file's modification time can make any ``.pyc`` match, so its header proves
nothing: only its code does. The code is compared with what the running
interpreter compiles from the source, as ``py_compile`` (and so pip) compiles
it: the marshalled bytes first, then, as marshal's output varies with
reference counts, the code objects field by field, leaving out only the file
name compiled into them (pip compiles with the path it installs to).

Only the interpreter that would load a ``.pyc`` can compile its source the
same way: one for another Python (another cache tag) cannot be compared here.
Standard library only: ``peep-hook verify`` runs without pip.
"""

from __future__ import annotations

import importlib.util
import marshal
import os
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from typing import Any, NamedTuple, Sequence

TAG = sys.implementation.cache_tag
_HEADER = 16  # magic, flags, then mtime and size or a source hash (PEP 552)
# What makes code run as it does; co_filename (where it was compiled) is left out.
_FIELDS = ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals",
           "co_stacksize", "co_flags", "co_code", "co_names", "co_varnames",
           "co_freevars", "co_cellvars", "co_name", "co_qualname", "co_firstlineno",
           "co_exceptiontable")


class Cached(NamedTuple):
    """Where a ``.pyc`` comes from, as the import system sees it."""

    source: str  # the .py it is compiled from (it may not exist)
    tag: str | None  # cache tag of its __pycache__ name; None for a legacy X.pyc
    optimize: int


def source_of(path: str) -> Cached | None:
    """The source a ``.pyc`` belongs to; None for a name no Python imports
    (a ``__pycache__`` entry not named ``X.TAG.pyc`` or ``X.TAG.opt-N.pyc``)."""
    directory, name = os.path.split(path)
    if os.path.basename(directory) != "__pycache__":
        return Cached(path[:-1], None, 0)
    parts = name.split(".")
    if len(parts) == 4 and parts[2] in ("opt-1", "opt-2"):
        optimize = int(parts[2][-1])
    elif len(parts) == 3:
        optimize = 0
    else:
        return None
    if not parts[0] or not parts[1]:
        return None
    return Cached(os.path.join(os.path.dirname(directory), parts[0] + ".py"), parts[1],
                  optimize)


def header_matches(pyc: bytes, source_path: str) -> bool:
    """Whether Python would load ``pyc`` for its source as it is now: the
    timestamp and size, or the source hash, in its header match (as
    ``py_compile``, and so pip, writes them)."""
    if len(pyc) < _HEADER or pyc[:4] != importlib.util.MAGIC_NUMBER:
        return False
    flags = int.from_bytes(pyc[4:8], "little")
    try:
        if flags & 1:
            with open(source_path, "rb") as f:
                return pyc[8:16] == importlib.util.source_hash(f.read())
        st = os.stat(source_path)
    except OSError:
        return False
    return (flags == 0 and int.from_bytes(pyc[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
            and int.from_bytes(pyc[12:16], "little") == st.st_size & 0xFFFFFFFF)


def mismatch(pyc: bytes, source: bytes, source_path: str, optimize: int) -> str | None:
    """None when ``pyc`` holds the code ``source`` compiles to with this
    interpreter; otherwise why not, for a report."""
    if len(pyc) < _HEADER or pyc[:4] != importlib.util.MAGIC_NUMBER:
        return "it is not byte code of this Python (wrong magic number)"
    try:
        expected = compile(source, source_path, "exec", dont_inherit=True, optimize=optimize)
    except Exception as exc:  # SyntaxError, ValueError (NUL bytes), RecursionError...
        return f"its source does not compile here ({type(exc).__name__}), so this Python " \
               "did not write it"
    body = pyc[_HEADER:]
    if body == marshal.dumps(expected):
        return None
    try:
        # marshal is not hardened against crafted input; a crash still ends
        # verify with a non-zero status, never with "clean".
        found = marshal.loads(body)
    except Exception:
        return "its code cannot be read"
    if not isinstance(found, types.CodeType) or _key(found) != _key(expected):
        return "its code is not what its source compiles to"
    return None


class Job(NamedTuple):
    """One ``.pyc`` to compare: the arguments of :func:`mismatch`."""

    pyc: bytes
    source: bytes
    source_path: str
    optimize: int


# Below this many files a pool's start-up costs more than it saves.
_POOL_MIN = 200
_BATCH = 64


def mismatches(jobs: Sequence[Job], *, pool: bool = False) -> list[str | None]:
    """:func:`mismatch` of each job, in order; with ``pool``, in a pool of
    processes, one a CPU, when there are enough jobs to pay for it. Each worker
    compiles with this same interpreter from the bytes given here (nothing is
    read again), so the results are those of the serial loop."""
    workers = min(os.cpu_count() or 1, len(jobs) // _POOL_MIN) if pool else 1
    if workers < 2:
        return [mismatch(*job) for job in jobs]
    batches = [jobs[i:i + _BATCH] for i in range(0, len(jobs), _BATCH)]
    with ProcessPoolExecutor(workers) as executor:
        return [why for found in executor.map(_batch, batches) for why in found]


def _batch(jobs: Sequence[Job]) -> list[str | None]:
    return [mismatch(*job) for job in jobs]


def _key(value: Any) -> Any:
    """A comparable form of a code object or constant, telling apart what ``==``
    does not (1, 1.0 and True; 0.0 and -0.0)."""
    if isinstance(value, types.CodeType):
        fields = [getattr(value, name, None) for name in _FIELDS]
        # The line table: co_linetable from 3.10 (co_lnotab warns from 3.12).
        table = getattr(value, "co_linetable", None)
        fields.append(table if table is not None else getattr(value, "co_lnotab", None))
        return ("code", tuple(fields), tuple(_key(c) for c in value.co_consts))
    if isinstance(value, tuple):
        return ("tuple", tuple(_key(v) for v in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted(repr(_key(v)) for v in value)))
    if isinstance(value, (str, bytes, int, type(None), type(...))):
        return (type(value).__name__, value)
    return (type(value).__name__, repr(value))
