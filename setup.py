"""Only here to put the start-up files at the top of site-packages.

Metadata lives in setup.cfg. A wheel installs a ``.pth`` file into
site-packages only from the wheel's root, so ``build_py`` writes both
start-up files there; the wheel's RECORD then lists them and
``pip uninstall peep-hook`` removes them.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

# Run by the .pth line only if peep_hook cannot be imported (the package
# directory removed while this .pth stays: a half-finished uninstall). A pip
# command that fetches must still stop (exit 1); pip uninstall, and every
# other program, must work. Compiled only on that failure path; short, as the
# line is parsed at every start.
_HALF_INSTALLED_GUARD = """\
_m = ("ERROR: peep-hook is only half installed (%s), so pip cannot check archive "
      "hashes. Remove %s, or reinstall peep-hook; set PEEP_HOOK=off to run one "
      "command unchecked." % (_e, fullname))
class PeepHookHalfInstalled:
    def find_spec(self, name, path=None, target=None):
        if name == "pip._internal.cli.base_command" and {
                "install", "download", "wheel", "lock"} & set(sys.argv[1:]):
            raise SystemExit(self.message)
PeepHookHalfInstalled.message = _m
sys.meta_path.insert(0, PeepHookHalfInstalled())
"""

_TRY_BOOTSTRAP = (
    "try:\n from peep_hook._bootstrap import start\n"
    "except Exception as _e:\n try:\n  exec(_g)\n except Exception:\n  pass\n"
    "else:\n start()"
)

STARTUP_FILES = {
    # Python <= 3.17 runs lines starting with "import" from .pth files; an
    # error there would print in every process, so nothing may escape.
    "peep_hook.pth": f"import sys; _g = {_HALF_INSTALLED_GUARD!r}; exec({_TRY_BOOTSTRAP!r})\n",
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
