"""A PEP 503 simple index on 127.0.0.1, served from a directory by a thread."""

from __future__ import annotations

import functools
import hashlib
import html
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests._support.archives import Archive


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _QuietHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, requested: list[str] | None = None, **kwargs: Any) -> None:
        # First: the request is handled in __init__.
        self.requested = requested if requested is not None else []
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self.requested.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


class Index:
    """Serves ``root/simple/<project>/`` and ``root/files/``.

    ``files/`` doubles as a find-links directory. What is served may differ from
    what the test hashed: that is how a tampered index is made, its links
    carrying ``#sha256=`` of what it really serves, as an attacker's would.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = root / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        (root / "simple").mkdir(exist_ok=True)
        #: every path requested, in order
        self.requested: list[str] = []
        handler = functools.partial(_QuietHandler, directory=str(root),
                                    requested=self.requested)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}/simple/"

    def publish(self, *archives: Archive) -> None:
        for archive in archives:
            archive.write(self.files)
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
            if canonical(path.name.split("-")[0]) == project:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                href = html.escape(f"../../files/{path.name}#sha256={digest}")
                links.append(f'<a href="{href}">{html.escape(path.name)}</a><br/>')
        page = self.root / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
