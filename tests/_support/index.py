"""A PEP 503 simple index on 127.0.0.1, served from a directory by a thread."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests._support.archives import Archive
from tests._support.servers import ANY_LOCAL_PORT, base_url, serve, stop


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _QuietHandler(SimpleHTTPRequestHandler):
    #: "Basic ..." the client must send, if any (a private index)
    authorization: str | None = None
    #: project pages in PEP 691's JSON only (index.json), never HTML
    json_only = False
    #: archives served with PyPI's Cache-Control, so that pip's HTTP cache keeps them
    cacheable_files = False

    def __init__(self, *args: Any, requested: list[str] | None = None, **kwargs: Any) -> None:
        # First: the request is handled in __init__.
        self.requested = requested if requested is not None else []
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self.requested.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        if self.authorization and self.headers.get("Authorization") != self.authorization:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="index"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.json_only and self.path.startswith("/simple/") and self.path.endswith("/"):
            self.path += "index.json"
        return super().send_head()

    def end_headers(self) -> None:
        if self.cacheable_files and self.path.startswith("/files/"):
            self.send_header("Cache-Control", "max-age=365000000, immutable, public")
        super().end_headers()

    def guess_type(self, path):  # type: ignore[no-untyped-def]
        if str(path).endswith("index.json"):
            return "application/vnd.pypi.simple.v1+json"
        return super().guess_type(path)


class Index:
    """Serves ``root/simple/<project>/`` and ``root/files/``.

    ``files/`` doubles as a find-links directory. What is served may differ from
    what the test hashed: that is how a tampered index is made, its links
    carrying ``#sha256=`` of what it really serves, as an attacker's would.
    """

    json_only = False
    #: serve each wheel's METADATA beside it (PEP 658), named on the page
    core_metadata = False

    def __init__(self, root: Path, *, credentials: tuple[str, str] | None = None,
                 json_only: bool = False, cacheable_files: bool = False,
                 tls: tuple[Path, Path] | None = None) -> None:
        """``credentials``: (user, password) every request must carry (basic auth).
        ``json_only``: project pages in PEP 691's JSON form only.
        ``cacheable_files``: archives served as PyPI serves them, cacheable.
        ``tls``: (certificate, key) to serve HTTPS with."""
        self.root = root
        self.files = root / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        (root / "simple").mkdir(exist_ok=True)
        #: every path requested, in order
        self.requested: list[str] = []
        self.json_only = json_only
        token = base64.b64encode(":".join(credentials).encode()).decode() if credentials else None
        attributes = {"authorization": f"Basic {token}" if token else None,
                      "json_only": json_only, "cacheable_files": cacheable_files}
        handler_class = type("_Handler", (_QuietHandler,), attributes)
        handler = functools.partial(handler_class, directory=str(root),
                                    requested=self.requested)
        self._server = serve(ThreadingHTTPServer(ANY_LOCAL_PORT, handler), tls=tls)

    @property
    def base(self) -> str:
        return base_url(self._server)

    @property
    def url(self) -> str:
        return f"{self.base}/simple/"

    def publish(self, *archives: Archive) -> None:
        for archive in archives:
            path = archive.write(self.files)
            if self.core_metadata and path.name.endswith(".whl"):
                with zipfile.ZipFile(path) as zf:
                    name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
                    path.with_name(path.name + ".metadata").write_bytes(zf.read(name))
            self._write_project_page(archive.name)

    def serve_text(self, path: str, text: str) -> str:
        """Serve a text file (a requirements file over HTTP); return its URL."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return f"{self.base}/{path}"

    def _write_project_page(self, name: str) -> None:
        project = canonical(name)
        links = []
        for path in sorted(self.files.iterdir()):
            if canonical(path.name.split("-")[0]) == project and path.suffix != ".metadata":
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                href = html.escape(f"../../files/{path.name}#sha256={digest}")
                metadata = path.with_name(path.name + ".metadata")
                attribute = ""
                if metadata.exists():  # both PEP 658's and PEP 714's names
                    value = "sha256=" + hashlib.sha256(metadata.read_bytes()).hexdigest()
                    attribute = (f' data-dist-info-metadata="{value}"'
                                 f' data-core-metadata="{value}"')
                links.append(f'<a href="{href}"{attribute}>{html.escape(path.name)}</a><br/>')
        page = self.root / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        if self.json_only:
            files = [{"filename": path.name, "url": f"../../files/{path.name}",
                      "hashes": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}}
                     for path in sorted(self.files.iterdir())
                     if canonical(path.name.split("-")[0]) == project
                     and path.suffix != ".metadata"]
            page.with_name("index.json").write_text(json.dumps(
                {"meta": {"api-version": "1.0"}, "name": project, "files": files}))
            return
        page.write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")

    def close(self) -> None:
        stop(self._server)
