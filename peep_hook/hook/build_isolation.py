"""Isolated build environments: the global hook reaches the processes inside them.

pip runs a build backend with its own ``sitecustomize.py`` first on
``PYTHONPATH``. That shadows the global hook's ``sitecustomize.py`` in the
standard library, so the backend, and any pip it starts (``python -m pip
install`` from a ``setup.py``, or pip's ``main()`` in-process), would run
unhooked. Each build environment's ``__enter__`` is wrapped: under a global
hook, pip's file then also runs the global one's hook (not the site's
previous ``sitecustomize.py``, which pip's isolation leaves out as it always
did). A per-environment hook needs nothing here: its ``.pth`` has run before
pip's file, and the trampoline finds the bootstrap beside itself.
"""

from __future__ import annotations

import os

from peep_hook.hook.state import refuse

#: Marks pip's file as chained already (an environment is entered more than once).
CHAIN_MARKER = "# peep-hook: this file shadows the global hook"

_CHAIN = CHAIN_MARKER + '''; start it here too.
try:
    _peep_hook_global = {path!r}
    with open(_peep_hook_global, "rb") as _peep_hook_file:
        exec(compile(_peep_hook_file.read(), _peep_hook_global, "exec"),
             {{"__name__": "sitecustomize", "__file__": _peep_hook_global,
              "_peep_hook_chained": True}})
except Exception:
    pass
'''


def reach_build_environment(wrapped, instance, args, kwargs):
    result = wrapped(*args, **kwargs)
    site_dir = getattr(instance, "_site_dir", None)
    home = _global_home()
    if home and site_dir:
        try:
            _chain(os.path.join(site_dir, "sitecustomize.py"),
                   os.path.join(os.path.dirname(home), "sitecustomize.py"))
        except OSError as exc:
            refuse(f"peep-hook: cannot extend pip's build environment to the global hook "
                   f"({exc}); the build backend would run unchecked.")
    return result


def _global_home() -> str | None:
    from peep_hook.startup import bootstrap  # loaded already: it loaded these patches

    return bootstrap.global_home()


def _chain(pips_file: str, global_file: str) -> None:
    with open(pips_file, encoding="utf-8") as f:
        if CHAIN_MARKER in f.read():
            return
    with open(pips_file, "a", encoding="utf-8") as f:
        f.write("\n" + _CHAIN.format(path=global_file))
