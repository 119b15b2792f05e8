"""Swap a file at one exact point inside the pip under test.

Race tests must not depend on timing. :func:`swap_inside_pip` puts a ``.pth``
into the venv (``Venv.reset`` removes it) that, once pip imports ``module``,
wraps ``function`` there so that, the first time it runs, ``source`` is moved
to ``target`` (replacing whatever ``target`` is) just before or just after it.
The plan travels in an environment variable: pip runs without it are untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests._support.venvs import Venv

VARIABLE = "PEEP_TEST_SWAP"

_MODULE = '''\
import json, os, shutil

_plan = json.loads(os.environ.get("PEEP_TEST_SWAP") or "null")


def _swap():
    source, target = _plan["source"], _plan["target"]
    if not os.path.lexists(source):
        return  # done once already
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    elif os.path.lexists(target):
        os.unlink(target)
    os.rename(source, target)


def _around(wrapped, instance, args, kwargs):
    if _plan["when"] == "before":
        _swap()
    result = wrapped(*args, **kwargs)
    if _plan["when"] == "after":
        _swap()
    return result


if _plan:
    try:
        import wrapt

        wrapt.register_post_import_hook(
            lambda module: wrapt.wrap_function_wrapper(module, _plan["function"], _around),
            _plan["module"])
    except ImportError:  # a build backend's process: nothing of pip's to wrap
        pass
'''


def swap_inside_pip(venv: Venv, *, module: str, function: str, when: str,
                    source: Path, target: Path) -> dict[str, str]:
    """Install the swapper; return the environment that arms it for one pip run."""
    (venv.site_packages / "peep_test_swap.py").write_text(_MODULE)
    (venv.site_packages / "peep_test_swap.pth").write_text("import peep_test_swap\n")
    plan = {"module": module, "function": function, "when": when,
            "source": str(source), "target": str(target)}
    return {VARIABLE: json.dumps(plan)}
