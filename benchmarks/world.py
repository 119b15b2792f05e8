"""What the benchmarks run in: the wheelhouse, peep-hook's wheel, the hooked
and the unhooked venv, a local index with the archives built for them and the
requirements files in three forms (peep, pip's --hash, no hashes)."""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from benchmarks.harness import (
    MB,
    BenchError,
    Plan,
    build_hook_wheel,
    copy_source,
    log,
    measure,
    source_description,
    tool_python,
)
from tests._support import archives
from tests._support.index import Index, canonical
from tests._support.venvs import Venv

WRAPT = "wrapt>=1.14,<2.2"  # as setup.cfg requires


@dataclass
class World:
    tmp: Path
    pip_version: str
    wheelhouse: Path
    hook_wheel: Path
    hooked: Venv
    unhooked: Venv
    index: Index | None = None
    small: ReqFiles | None = None
    large: ReqFiles | None = None
    large_stacked: ReqFiles | None = None  # 3 hashes per requirement, as peep files have
    large_size: int = 0
    info: dict = field(default_factory=dict)


def setup_world(tmp: Path, args: argparse.Namespace, plan: Plan, want: set[str]) -> World:
    log("set-up")
    python = tool_python(tmp)
    wheelhouse = make_wheelhouse(tmp, python, args.pip, args.wheelhouse)
    described = source_description(args.ref)
    log("  building peep-hook's wheel from the checkout (no network): " + described)
    source = copy_source(tmp, args.ref)
    # The in-process scale benchmark imports this same copy.
    sys.path.insert(0, str(source))
    hook_wheel = build_hook_wheel(tmp, python, source)
    hooked, unhooked = make_venvs(tmp, wheelhouse, args.pip, hook_wheel)
    world = World(tmp, args.pip, wheelhouse, hook_wheel, hooked, unhooked)
    world.info["source"] = described
    world.info["wheels"] = [next(wheelhouse.glob(f"pip-{args.pip}-*.whl")).name,
                            next(wheelhouse.glob("wrapt-*.whl")).name, hook_wheel.name]
    if want & {"install", "large", "memory"}:
        world.index = Index(tmp / "index")
        log(f"  index at {world.index.url}; building {plan.n_small} small wheels")
        pins = []
        filler = "DATA = " + repr("x" * 2000)
        for i in range(plan.n_small):
            archive = archives.wheel(f"benchpkg{i:03d}", "1.0", payload=filler)
            world.index.publish(archive)
            pins.append((archive.name, archive.version, archive.sha256))
        world.small = write_reqfiles(tmp / "reqs", "small", pins)
        sanity_check_enforcement(world)
    if want & {"large", "memory"}:
        size = (args.large_mb if args.large_mb is not None else plan.large_mb) * MB
        log(f"  writing a {size // MB} MB wheel of random data (ZIP_STORED)")
        path = write_big_wheel(tmp / "build", "benchlarge", "1.0", size)
        digest = publish_file(world.index, path, "benchlarge")
        world.large = write_reqfiles(tmp / "reqs", "large", [("benchlarge", "1.0", digest)])
        world.large_stacked = write_reqfiles(tmp / "reqs", "large-stacked",
                                             [("benchlarge", "1.0", digest)], decoys=2)
        world.large_size = size
    return world


def make_wheelhouse(tmp: Path, python: Path, pip_version: str, given: Path | None) -> Path:
    def complete(d: Path) -> bool:
        return any(d.glob(f"pip-{pip_version}-*.whl")) and any(d.glob("wrapt-*.whl"))

    if given is not None:
        if not complete(given):
            raise BenchError(f"{given} lacks pip-{pip_version}-*.whl or wrapt-*.whl")
        return given
    wheelhouse = tmp / "wheelhouse"
    log(f"  downloading pip=={pip_version} and wrapt (network)")
    # The env of set-up commands also switches peep-hook off, in case the
    # interpreter running this script has it installed.
    measure([python, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             f"pip=={pip_version}", WRAPT, "-d", wheelhouse],
            env={"PEEP_HOOK": "off"}, timeout=600)
    if not complete(wheelhouse):
        raise BenchError(f"download did not produce pip-{pip_version} and wrapt in {wheelhouse}")
    return wheelhouse


def make_venvs(tmp: Path, wheelhouse: Path, pip_version: str, hook_wheel: Path) -> tuple[Venv, Venv]:
    log("  creating the hooked and the unhooked venv")
    hooked = Venv.create(tmp / "venv-hooked", wheelhouse=wheelhouse, pip_version=pip_version,
                         hook_wheel=hook_wheel)
    unhooked = Venv.create(tmp / "venv-unhooked", wheelhouse=wheelhouse,
                           pip_version=pip_version, hook_wheel=None)
    check = "import sys; print('_peep_hook_start' in sys.modules, 'wrapt' in sys.modules)"
    if measure([hooked.python, "-c", check]).output.split() != ["True", "False"]:
        raise BenchError("the hooked venv does not load peep-hook's start-up trampoline")
    if measure([unhooked.python, "-c", check]).output.split() != ["False", "False"]:
        raise BenchError("the unhooked venv loads peep_hook")
    for venv in (hooked, unhooked):
        out = measure([venv.bin / "pip", "--version"]).output
        if not out.startswith(f"pip {pip_version} "):
            raise BenchError(f"{venv.path}: expected pip {pip_version}, got {out!r}")
    return hooked, unhooked


def sanity_check_enforcement(world: World) -> None:
    """The hooked pip must refuse a requirements file without hashes."""
    assert world.index is not None and world.small is not None
    one = world.tmp / "reqs" / "one-plain.txt"
    one.write_text(world.small.plain.read_text().splitlines()[0] + "\n")
    refused = measure([world.hooked.bin / "pip", "install", "--no-cache-dir", "--index-url",
                       world.index.url, "-r", one], expect=None)
    world.hooked.reset()
    if refused.returncode == 0:
        raise BenchError("the hooked pip installed an unhashed requirement: hook not active\n"
                         + refused.output)
    log("  sanity check: the hooked pip refuses a requirement without hash (good)")


def installed_count(venv: Venv, names: Sequence[str]) -> int:
    present = {p.name.split("-")[0].lower() for p in venv.site_packages.glob("*.dist-info")}
    return sum(1 for n in names if n.lower() in present)


@dataclass
class ReqFiles:
    peep: Path    # "# sha256: <base64>" above each requirement (read by the hook)
    native: Path  # "name==v --hash=sha256:<hex>" (pip's own form)
    plain: Path   # "name==v", no hashes
    names: list[str]


def write_reqfiles(directory: Path, stem: str, pins: Sequence[tuple[str, str, str]], *,
                   decoys: int = 0) -> ReqFiles:
    """``pins``: (name, version, hex sha256). With ``decoys``, each requirement
    also gets that many other hashes (of other archives, as for an sdist and
    wheels of other platforms), stacked before the one that matches."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(stem)

    def hexes(h: str) -> list[str]:
        return [rng.randbytes(32).hex() for _ in range(decoys)] + [h]

    stacks = [(n, v, hexes(h)) for n, v, h in pins]
    peep = "".join("".join(f"# sha256: {peep_of(x)}\n" for x in hs) + f"{n}=={v}\n\n"
                   for n, v, hs in stacks)
    native = "".join(f"{n}=={v} " + " ".join(f"--hash=sha256:{x}" for x in hs) + "\n"
                     for n, v, hs in stacks)
    plain = "".join(f"{n}=={v}\n" for n, v, _ in pins)
    files = []
    for kind, text in (("peep", peep), ("native", native), ("plain", plain)):
        path = directory / f"{stem}-{kind}.txt"
        path.write_text(text)
        files.append(path)
    return ReqFiles(*files, names=[n for n, _, _ in pins])


def peep_of(hex_digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).decode().rstrip("=")


def publish_file(index: Index, path: Path, name: str) -> str:
    """Put a file built on disk into the index; return its hex SHA-256."""
    target = index.files / path.name
    if path != target:
        shutil.move(str(path), target)
    digest = hashlib.sha256()
    with open(target, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    hex_digest = digest.hexdigest()
    page = index.root / "simple" / canonical(name) / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f'<!DOCTYPE html><html><body>\n<a href="../../files/{target.name}'
                    f'#sha256={hex_digest}">{target.name}</a><br/>\n</body></html>\n')
    return hex_digest


def write_big_wheel(directory: Path, name: str, version: str, size: int) -> Path:
    """A wheel holding ``size`` bytes of random data, stored uncompressed."""
    dist_info = f"{name}-{version}.dist-info"
    small = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: peep-hook-benchmarks\n"
                               b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }

    def record_hash(digest: bytes) -> str:
        return "sha256=" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for arcname, data in small.items():
            zf.writestr(zipfile.ZipInfo(arcname, (2020, 1, 1, 0, 0, 0)), data)
            record.append(f"{arcname},{record_hash(hashlib.sha256(data).digest())},{len(data)}")
        info = zipfile.ZipInfo(f"{name}/blob.bin", (2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        digest = hashlib.sha256()
        with zf.open(info, "w", force_zip64=size >= 2**31) as f:
            left = size
            while left:
                chunk = os.urandom(min(left, 1 << 20))
                digest.update(chunk)
                f.write(chunk)
                left -= len(chunk)
        record.append(f"{name}/blob.bin,{record_hash(digest.digest())},{size}")
        record.append(f"{dist_info}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", (2020, 1, 1, 0, 0, 0)),
                    "\n".join(record) + "\n")
    return path


def write_verify_wheel(directory: Path, name: str, modules: int, data_size: int) -> Path:
    """A wheel of ``modules`` small modules and one file of random data."""
    dist_info = f"{name}-1.0.dist-info"
    source = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60))
    files = {f"{name}/__init__.py": b"VERSION = '1.0'\n"}
    files.update({f"{name}/m{j:03d}.py": source.encode() for j in range(modules - 1)})
    files[f"{name}/data.bin"] = os.urandom(data_size)
    files[f"{dist_info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\n"
                                      "Version: 1.0\n").encode()
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: peep-hook-benchmarks\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = [f"{p},sha256={peep_of(hashlib.sha256(d).hexdigest())},{len(d)}"
              for p, d in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in files.items():
            info = zipfile.ZipInfo(arcname, (2020, 1, 1, 0, 0, 0))
            stored = arcname.endswith(".bin")  # random data: nothing to compress
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path
