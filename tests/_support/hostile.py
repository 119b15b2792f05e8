"""A scripted PEP 503 index on 127.0.0.1, for tests/test_hostile.py.

:class:`HostileIndex` serves a page per project and answers each archive
request with whatever the test scripted (a truncated body, a redirect,
silence, a slow dribble). Closing it cuts short any response it is still
stalling or dribbling.
"""

from __future__ import annotations

import html
import socket
import struct
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit

from tests._support.archives import Archive
from tests._support.index import canonical
from tests._support.servers import ANY_LOCAL_PORT, base_url, serve, stop

#: What a test scripts for one request: it writes the whole response. The
#: event is set when the server closes; a response that waits must stop then.
Respond = Callable[[BaseHTTPRequestHandler, threading.Event], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        index = self.server.index
        path = urlsplit(self.path).path
        index.requests.append(path)
        respond = index.routes.get(path)
        if respond is None:
            self.send_error(404)
            return
        try:
            respond(self, index.closing)
        except (BrokenPipeError, ConnectionResetError):
            pass  # pip hung up on a response it had given up on: expected here


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, index: HostileIndex) -> None:
        super().__init__(ANY_LOCAL_PORT, _Handler)
        self.index = index

    def handle_error(self, request, client_address) -> None:
        self.index.errors.append(traceback.format_exc())


class HostileIndex:
    """A PEP 503 index on 127.0.0.1 whose archive responses each test scripts.

    :meth:`serve` publishes a project page linking ``/files/<filename>``
    (without a ``#sha256=`` fragment, so pip checks what it downloads against
    the requirements file alone) and answers that path with ``respond``.
    ``host`` only changes how the URLs name the server (``localhost`` makes it
    another host name for the same loopback address).
    """

    def __init__(self, host: str = "127.0.0.1", *, cacheable: bool = False) -> None:
        self.host = host
        self.cacheable = cacheable
        self.routes: dict[str, Respond] = {}
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.closing = threading.Event()
        #: set once a dribbled response has sent its first chunk
        self.sending = threading.Event()
        self._server = serve(_Server(self))

    @property
    def base(self) -> str:
        return base_url(self._server, self.host)

    @property
    def url(self) -> str:
        return f"{self.base}/simple/"

    def serve(self, archive: Archive, respond: Respond | None = None) -> None:
        """List ``archive`` and answer its download with ``respond`` (default:
        the archive itself, whole)."""
        href = f"/files/{archive.filename}"
        page = (
            "<!DOCTYPE html><html><body>\n"
            f'<a href="{html.escape(href)}">{html.escape(archive.filename)}</a><br/>\n'
            "</body></html>\n"
        ).encode()
        self.routes[f"/simple/{canonical(archive.name)}/"] = body(page, "text/html")
        self.routes[href] = respond or body(archive.data)

    def downloads(self, archive: Archive) -> int:
        return self.requests.count(f"/files/{archive.filename}")

    def close(self) -> None:
        self.closing.set()
        stop(self._server)


def _headers(h: BaseHTTPRequestHandler, length: int, content_type: str) -> None:
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(length))
    if h.server.index.cacheable:
        h.send_header("Cache-Control", "max-age=3600, public")
    h.end_headers()


def body(data: bytes, content_type: str = "application/octet-stream") -> Respond:
    """The whole of ``data``, as an honest server sends it."""
    def respond(h, closing):
        _headers(h, len(data), content_type)
        h.wfile.write(data)
    return respond


def truncated(data: bytes, keep: int, *, reset: bool = False) -> Respond:
    """Content-Length of all of ``data``, then only ``keep`` bytes of it, then
    the connection closed (``reset``: aborted with a TCP RST)."""
    def respond(h, closing):
        _headers(h, len(data), "application/octet-stream")
        h.wfile.write(data[:keep])
        h.wfile.flush()
        if reset:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
            h.connection.close()
        h.close_connection = True
    return respond


def redirect(location: str) -> Respond:
    def respond(h, closing):
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return respond


def silent(data: bytes, delay: float, *, keep: int = 0) -> Respond:
    """``keep`` bytes (with headers) or nothing at all, then silence for
    ``delay`` seconds before the rest."""
    def respond(h, closing):
        if keep:
            _headers(h, len(data), "application/octet-stream")
            h.wfile.write(data[:keep])
            h.wfile.flush()
        if closing.wait(delay):
            return
        if not keep:
            _headers(h, len(data), "application/octet-stream")
        h.wfile.write(data[keep:])
    return respond


def dribble(data: bytes, chunk: int, interval: float) -> Respond:
    """``data`` ``chunk`` bytes at a time, one chunk every ``interval`` seconds."""
    def respond(h, closing):
        _headers(h, len(data), "application/octet-stream")
        for start in range(0, len(data), chunk):
            h.wfile.write(data[start:start + chunk])
            h.wfile.flush()
            h.server.index.sending.set()
            if closing.wait(interval):
                return
    return respond


def waiting_for(barrier: threading.Barrier, data: bytes) -> Respond:
    """``data``, once ``barrier.parties`` requests are waiting together."""
    def respond(h, closing):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the test asserts the barrier held
        body(data)(h, closing)
    return respond
