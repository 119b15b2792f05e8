"""Only here to put the start-up files at the top of site-packages.

Metadata lives in setup.cfg. A wheel installs a file at the top of
site-packages only from the wheel's root, so ``build_py`` puts the ``.pth``,
its PEP 829 ``.start`` twin and the trampoline module there; the wheel's
RECORD then lists them and ``pip uninstall peep-hook`` removes them.
"""

import os
import shutil

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

# The start-up trampoline: kept in the package's source tree, installed as a
# top-level module so that a Python start imports one small module, not two.
TRAMPOLINE_SOURCE = os.path.join("peep_hook", "_start.py")
TRAMPOLINE = "_peep_hook_start.py"

STARTUP_FILES = {
    # Python <= 3.17 runs lines starting with "import" from .pth files: one
    # import, nothing else. Guarding it (exec of a try statement) would cost
    # a second compile in every process, a third of the hook's start-up; if
    # the trampoline is deleted by hand, site prints the error and goes on.
    "peep_hook.pth": "import _peep_hook_start\n",
    # PEP 829 (Python 3.15+): an entry point; it also switches off the
    # import line of the .pth of the same name.
    "peep_hook.start": "_peep_hook_start:install\n",
}


def write_startup_texts(directory):
    for name, text in STARTUP_FILES.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
            f.write(text)


class BuildPyWithStartupFiles(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # built nothing: see below
            return
        os.replace(os.path.join(self.build_lib, TRAMPOLINE_SOURCE),
                   os.path.join(self.build_lib, TRAMPOLINE))
        write_startup_texts(self.build_lib)

    def get_outputs(self, include_bytecode=True):
        moved = os.path.join(self.build_lib, TRAMPOLINE_SOURCE)
        return [o for o in super().get_outputs(include_bytecode) if o != moved] + [
            os.path.join(self.build_lib, name) for name in (TRAMPOLINE, *STARTUP_FILES)
        ]


class EditableWheelWithStartupFiles(editable_wheel):
    """``pip install -e .``: the editable wheel's root gets the start-up files
    too (the trampoline copied: after a change to ``_start.py``, install
    again). Left to setuptools, it holds only its own finder: the hook is off."""

    # A private method (setuptools 66.1 to 82 at least), the step that is
    # given the root of the wheel being made.
    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):
        built = super()._run_build_commands(dist_name, unpacked_wheel, build_lib, tmp_dir)
        shutil.copy2(os.path.join(self.project_dir, TRAMPOLINE_SOURCE),
                     os.path.join(unpacked_wheel, TRAMPOLINE))
        write_startup_texts(unpacked_wheel)
        return built


class DistributionWithTrampoline(Distribution):
    """Names the trampoline among the top-level modules (top_level.txt): it is
    not a ``py_modules`` entry, as its source lives inside the package."""

    def iter_distribution_names(self):
        yield from super().iter_distribution_names()
        yield TRAMPOLINE[:-len(".py")]


setup(
    distclass=DistributionWithTrampoline,
    cmdclass={"build_py": BuildPyWithStartupFiles, "editable_wheel": EditableWheelWithStartupFiles},
)
