"""Only here to put the start-up files at the top of site-packages.

Metadata lives in setup.cfg. A wheel installs a ``.pth`` file into
site-packages only from the wheel's root, so ``build_py`` writes both
start-up files there; the wheel's RECORD then lists them and
``pip uninstall peep-hook`` removes them.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

STARTUP_FILES = {
    # Python <= 3.17 runs lines starting with "import" from .pth files. The
    # guard keeps a half-removed install from printing errors in every process.
    "peep_hook.pth": (
        'import sys; exec("try:\\n from peep_hook._bootstrap import start\\n'
        'except Exception:\\n pass\\nelse:\\n start()")\n'
    ),
    # PEP 829 (Python 3.15+): an entry point; it also switches off the
    # import line of the .pth of the same name.
    "peep_hook.start": "peep_hook._bootstrap:start\n",
}


class BuildPyWithStartupFiles(build_py):
    def run(self):
        super().run()
        for name, text in STARTUP_FILES.items():
            path = os.path.join(self.build_lib, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [
            os.path.join(self.build_lib, name) for name in STARTUP_FILES
        ]


setup(cmdclass={"build_py": BuildPyWithStartupFiles})
