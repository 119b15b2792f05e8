"""The layout's import rules, checked rather than only written down.

- ``peep_hook/_start.py`` and ``peep_hook/startup/``: start-up code, the
  standard library only (and the pip-free core);
- ``peep_hook/hook/``: inside pip, pip and wrapt; never the commands;
- ``peep_hook/core/``: the pip-free core, the standard library only (and the
  start-up facts);
- ``peep_hook/commands/``: no pip, wrapt or hook at import; only ``fill``
  (and ``verify --deep``, through it) import pip, when they run.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Iterator

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "peep_hook"
STDLIB = "stdlib"

#: what each part may import: (anywhere in a module, at its top level)
RULES = {
    "startup": ({STDLIB, "peep_hook.core", "peep_hook.startup"},) * 2,
    "hook": ({STDLIB, "pip", "wrapt", "peep_hook.core", "peep_hook.startup", "peep_hook.hook"},) * 2,
    # The start-up facts (pip's module names, the fetching commands, the oldest
    # pip) are defined once, in the bootstrap; the core reads them there.
    "core": ({STDLIB, "peep_hook.core", "peep_hook.startup"},) * 2,
    "commands": ({STDLIB, "pip", "peep_hook", "peep_hook.core", "peep_hook.startup",
                  "peep_hook.commands"},
                 {STDLIB, "peep_hook", "peep_hook.core", "peep_hook.startup", "peep_hook.commands"}),
}
#: the commands that never import pip or wrapt, even when they run
PIP_FREE_COMMANDS = ("check", "port", "verify", "status", "global_hook", "cli")


def _is_stdlib(top: str) -> bool:
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    if names is not None:
        return top in names
    if top in sys.builtin_module_names:
        return True
    spec = importlib.util.find_spec(top)
    origin = (spec.origin or "") if spec else ""
    return origin.startswith(sysconfig.get_paths()["stdlib"]) and "-packages" not in origin


def _kind(module: str) -> str:
    """"stdlib", a part of peep_hook ("peep_hook.core"), or a distribution ("pip")."""
    if module == "__future__" or _is_stdlib(module.split(".")[0]):
        return STDLIB
    return ".".join(module.split(".")[:2 if module.startswith("peep_hook.") else 1])


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(module imported, whether at the module's top level) for each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            yield name, id(node) in top


def _modules(part: str) -> list[Path]:
    return sorted((PACKAGE / part).rglob("*.py"))


def _breaches(part: str) -> list[str]:
    anywhere, at_top = RULES[part]
    found = []
    for path in _modules(part):
        for module, top_level in _imports(path):
            if _kind(module) not in (at_top if top_level else anywhere):
                where = "at its top" if top_level else "inside a function"
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {module} {where}")
    return found


@pytest.mark.parametrize("part", sorted(RULES))
def test_each_part_imports_only_what_its_rule_allows(part: str) -> None:
    assert _modules(part), f"peep_hook/{part}/ has no modules"
    assert _breaches(part) == []


def test_the_trampoline_imports_only_sys_at_start_up() -> None:
    imports = list(_imports(PACKAGE / "_start.py"))
    assert [module for module, top in imports if top] == ["sys"]
    assert {_kind(module) for module, _ in imports} <= {STDLIB, "peep_hook.startup"}


def test_no_module_lies_outside_the_four_parts() -> None:
    assert {p.name for p in PACKAGE.glob("*.py")} == {"__init__.py", "__main__.py", "_start.py"}
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert parts == set(RULES)


def test_the_rule_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import os\n\n\ndef f():\n    from pip._internal import main\n")
    assert list(_imports(module)) == [("os", True), ("pip._internal", False)]
    assert _kind("pip._internal") not in RULES["core"][0]
    assert _kind("peep_hook.hook.enforce") not in RULES["commands"][0]


@pytest.mark.parametrize("command", PIP_FREE_COMMANDS)
def test_pip_free_commands_load_neither_pip_nor_wrapt(command: str) -> None:
    code = (f"import sys; import peep_hook.commands.{command}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pip', 'wrapt')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent,
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
