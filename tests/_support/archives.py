"""Wheels and sdists built in memory, byte-for-byte reproducible.

An sdist here carries an in-tree build backend that writes a marker file as
soon as any of its code runs, so a test can prove that nothing from a refused
archive was executed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

_EPOCH = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Archive:
    name: str
    version: str
    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def peep(self) -> str:
        raw = hashlib.sha256(self.data).digest()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"

    def peep_block(self) -> str:
        return f"# sha256: {self.peep}\n{self.pin}\n"

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / self.filename
        path.write_bytes(self.data)
        return path


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    return f"sha256={digest}"


def wheel(
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    payload: str = "",
    files: Mapping[str, bytes] | None = None,
) -> Archive:
    """A pure-Python wheel holding module ``name`` (``VERSION`` and ``payload``),
    and ``files`` (path: bytes) beside it, listed in RECORD with their hashes."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    metadata += [f"Requires-Dist: {r}" for r in requires]
    members = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n{payload}\n".encode(),
        **(files or {}),
        f"{dist_info}/METADATA": ("\n".join(metadata) + "\n").encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: peep-hook-tests\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in members.items()]
    record.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in members.items():
            zf.writestr(zipfile.ZipInfo(path, _EPOCH), data)
    return Archive(name, version, f"{name}-{version}-py3-none-any.whl", buffer.getvalue())


def sdist(
    name: str,
    version: str,
    *,
    marker_dir: Path,
    requires: Sequence[str] = (),
    build_requires: Sequence[str] = (),
    payload: str = "",
    backend: str | None = None,
    sources: bool = False,
) -> Archive:
    """An sdist whose in-tree backend writes ``marker_dir/<name>-<version>`` when imported.
    With ``sources``, it also holds the modules of the wheel it builds, as a real one would.

    With ``backend``, the sdist instead names that build backend (a module
    from one of ``build_requires``, such as :func:`backend_wheel`) and has no
    code of its own.
    """
    if backend is not None:
        return _sdist_files(name, version, {
            "pyproject.toml": (
                f"[build-system]\nrequires = {list(build_requires)!r}\n"
                f"build-backend = {backend!r}\n"
            ),
            "PKG-INFO": _pkg_info(name, version, requires),
        })
    built = wheel(name, version, requires=requires, payload=payload)
    marker = marker_dir / f"{name}-{version}"
    backend_code = textwrap.dedent(
        f'''\
        import base64, os
        with open({str(marker)!r}, "a") as f:
            f.write("backend code ran\\n")
        _WHEEL = base64.b64decode({base64.b64encode(built.data).decode()!r})

        def get_requires_for_build_wheel(config_settings=None):
            return []

        def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
            with open(os.path.join(wheel_directory, {built.filename!r}), "wb") as f:
                f.write(_WHEEL)
            return {built.filename!r}
        '''
    )
    pyproject = textwrap.dedent(
        f"""\
        [build-system]
        requires = {list(build_requires)!r}
        build-backend = "backend"
        backend-path = ["."]
        """
    )
    with zipfile.ZipFile(io.BytesIO(built.data)) as zf:
        modules = {m: zf.read(m).decode() for m in zf.namelist() if m.endswith(".py")}
    return _sdist_files(name, version, {
        "pyproject.toml": pyproject,
        "backend.py": backend_code,
        "PKG-INFO": _pkg_info(name, version, requires),
        **(modules if sources else {}),
    })


def _pkg_info(name: str, version: str, requires: Sequence[str]) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    return "\n".join(lines + [f"Requires-Dist: {r}" for r in requires]) + "\n"


def _sdist_files(name: str, version: str, files: dict[str, str]) -> Archive:
    top = f"{name}-{version}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tf:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            info.mtime = 1577836800
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    # gzip writes a timestamp; fix it so equal inputs give equal bytes.
    data = bytearray(buffer.getvalue())
    data[4:8] = b"\0\0\0\0"
    return Archive(name, version, f"{top}.tar.gz", bytes(data))


#: Source of ``write_wheel``, for the build backends written here: a pure-Python
#: wheel of ``modules`` (path: text) with its metadata and RECORD.
WHEEL_WRITER = r'''
import base64, hashlib, os, zipfile


def write_wheel(wheel_directory, name, version, modules, requires=()):
    dist_info = name + "-" + version + ".dist-info"
    meta = "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"
    meta += "".join("Requires-Dist: " + r + "\n" for r in requires)
    files = dict(modules)
    files[dist_info + "/METADATA"] = meta
    files[dist_info + "/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: x\nRoot-Is-Purelib: true\n"
                                   "Tag: py3-none-any\n")
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode()
        record.append(path + ",sha256=" + digest.rstrip("=") + "," + str(len(text.encode())))
    files[dist_info + "/RECORD"] = "\n".join(record + [dist_info + "/RECORD,,"]) + "\n"
    filename = name + "-" + version + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return filename
'''


def backend_wheel(name: str, version: str, *, marker_dir: Path, payload: str = "") -> Archive:
    """A PEP 517 build backend as a wheel: module ``name`` leaves
    ``marker_dir/<name>-<version>`` when imported, and builds a minimal wheel
    for whatever sdist it is run in (name and version from its PKG-INFO)."""
    marker = marker_dir / f"{name}-{version}"
    code = textwrap.dedent(
        f'''\
        with open({str(marker)!r}, "a") as f:
            f.write("build backend ran\\n")
        {payload}

        def get_requires_for_build_wheel(config_settings=None):
            return []

        def _meta():
            fields = {{}}
            with open("PKG-INFO") as f:
                for line in f:
                    key, _, value = line.partition(": ")
                    fields.setdefault(key, []).append(value.strip())
            return fields["Name"][0], fields["Version"][0], fields.get("Requires-Dist", [])

        def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
            name, version, requires = _meta()
            module = {{name + "/__init__.py": "BUILT_BY = " + repr(__name__) + "\\n"}}
            return write_wheel(wheel_directory, name, version, module, requires)

        # PEP 660: a plain wheel is an acceptable "editable" for these tests.
        get_requires_for_build_editable = get_requires_for_build_wheel
        build_editable = build_wheel
        '''
    )
    return wheel(name, version, payload=code + WHEEL_WRITER)


def source_tree(directory: Path, name: str, version: str, *, backend: str,
                build_requires: Sequence[str], requires: Sequence[str] = ()) -> Path:
    """A project checkout (pyproject.toml + PKG-INFO) built by ``backend``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(
        f"[build-system]\nrequires = {list(build_requires)!r}\nbuild-backend = {backend!r}\n"
    )
    (directory / "PKG-INFO").write_text(_pkg_info(name, version, requires))
    return directory


def tampered(archive: Archive, *, marker_dir: Path | None = None) -> Archive:
    """A working archive of the same name and version with other contents, as a
    compromised index would serve it. For an sdist, its backend also leaves a
    marker in ``marker_dir`` when run."""
    if archive.filename.endswith(".whl"):
        return wheel(archive.name, archive.version, payload="TAMPERED = True")
    assert marker_dir is not None, "a tampered sdist needs a marker directory"
    return sdist(archive.name, archive.version, marker_dir=marker_dir, payload="TAMPERED = True")


def setup_py_sdist(name: str, version: str, *, marker_dir: Path, setup_requires: Sequence[str] = (),
                   setup_cfg: str = "") -> Archive:
    """A legacy sdist (setup.py, no pyproject.toml) whose setup.py writes
    ``marker_dir/<name>-<version>`` when it runs (with io.open: easy_install's
    sandbox replaces only the built-in open, as any attacker knows)."""
    marker = marker_dir / f"{name}-{version}"
    setup_py = textwrap.dedent(
        f"""\
        import io
        from setuptools import setup
        with io.open({str(marker)!r}, "a") as f:
            f.write("setup.py ran\\n")
        setup(name={name!r}, version={version!r}, py_modules=[],
              setup_requires={list(setup_requires)!r})
        """
    )
    return _sdist_files(name, version, {
        "setup.py": setup_py,
        "setup.cfg": setup_cfg,
        "PKG-INFO": _pkg_info(name, version, ()),
    })
