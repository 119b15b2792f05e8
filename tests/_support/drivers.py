"""Programs that reach pip other than through its own command line.

Each is the text of a script (or of a module a ``.pth`` file imports) that a
test writes out and runs with a venv's Python.
"""

from __future__ import annotations

from pathlib import Path

#: ``python main_driver.py <pip install arguments>``: runs pip's install
#: command in-process through ``Command._main``, as programs embedding pip do.
MAIN_DRIVER = """\
import contextlib, sys
from pip._internal.commands import create_command

command = create_command("install")
# pip 26.3's InstallCommand.main opens this stack; a caller of _main must too.
with contextlib.ExitStack() as command._import_guard, command.main_context():
    status = command._main(sys.argv[1:])
sys.exit(status)
"""

#: ``python compile_mimic.py <requirements file> <index url>``: what
#: pip-tools' pip-compile does with pip's internals. It parses the options and
#: the requirements file itself, builds a preparer and a resolver with the
#: install command's factories and resolves: no pip command ever runs.
COMPILE_MIMIC = """\
import inspect, sys
from pip._internal.commands import create_command
from pip._internal.req import parse_requirements
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.utils.temp_dir import TempDirectory, global_tempdir_manager
try:
    from pip._internal.operations.build.build_tracker import get_build_tracker
except ImportError:  # pip < 22.1
    from pip._internal.req.req_tracker import get_requirement_tracker as get_build_tracker


def call(function, **kwargs):
    # Only the keyword arguments this pip's version of the function takes.
    names = inspect.signature(function).parameters
    return function(**{k: v for k, v in kwargs.items() if k in names})


requirements_file, index_url = sys.argv[1], sys.argv[2]
command = create_command("install")
options, _ = command.parse_args(["-i", index_url, "--no-cache-dir"])
with global_tempdir_manager(), get_build_tracker() as tracker, \\
        TempDirectory(kind="resolver") as temp_dir:
    session = command._build_session(options)
    finder = command._build_package_finder(options=options, session=session)
    reqs = [
        call(install_req_from_parsed_requirement, parsed_req=parsed, isolated=False,
             user_supplied=True)
        for parsed in parse_requirements(requirements_file, session, finder=finder,
                                         options=options)
    ]
    preparer = call(
        command.make_requirement_preparer, temp_build_dir=temp_dir, options=options,
        req_tracker=tracker, build_tracker=tracker, session=session, finder=finder,
        use_user_site=False, allow_editables=False, download_dir=None, verbosity=0,
    )
    resolver = call(
        command.make_resolver, preparer=preparer, finder=finder, options=options,
        wheel_cache=None, use_user_site=False, ignore_installed=True,
        ignore_requires_python=False, force_reinstall=False,
        upgrade_strategy="to-satisfy-only", use_pep517=None,
    )
    result = resolver.resolve(reqs, check_supported_wheels=True)
    print("resolved:", " ".join(sorted(result.requirements)))
"""

#: A module that serves every ``pip`` module through one legacy loader with
#: ``load_module`` only, shared by all of them: what Python 3.8's and 3.9's
#: zipimporter is for pip run from its wheel or a .pyz. With ``SLOTS = True``
#: the loader takes no new attributes, as a loader written in C would not.
LEGACY_LOADER = """\
import sys
from importlib.machinery import PathFinder
from importlib.util import module_from_spec, spec_from_loader

SLOTS = {slots}


class LegacyLoader:
    if SLOTS:
        __slots__ = ("specs",)

    def __init__(self):
        self.specs = {{}}

    def load_module(self, fullname):
        spec = self.specs[fullname]
        module = module_from_spec(spec)
        module.__loader__ = self
        sys.modules[fullname] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(fullname, None)
            raise
        return sys.modules[fullname]


class LegacyFinder:
    loader = LegacyLoader()

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != "pip" and not fullname.startswith("pip."):
            return None
        real = PathFinder.find_spec(fullname, path)
        if real is None or real.loader is None:
            return None
        cls.loader.specs[fullname] = real
        spec = spec_from_loader(fullname, cls.loader, origin=real.origin,
                                is_package=real.submodule_search_locations is not None)
        spec.submodule_search_locations = real.submodule_search_locations
        spec.has_location = real.has_location
        return spec


# Just before the path finder, so that every other finder is asked first.
if LegacyFinder not in sys.meta_path:
    sys.meta_path.insert(sys.meta_path.index(PathFinder), LegacyFinder)
"""


def write_script(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def install_legacy_loader(site_packages: Path, *, slots: bool = False) -> None:
    """Make every Python of that site-packages load pip through a legacy loader.

    The ``.pth`` file sorts after ``peep_hook.pth``, as most would.
    """
    (site_packages / "zz_legacy_loader.py").write_text(LEGACY_LOADER.format(slots=slots))
    (site_packages / "zz_legacy_loader.pth").write_text("import zz_legacy_loader\n")
