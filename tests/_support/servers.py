"""HTTP servers on 127.0.0.1, each answering from a daemon thread until stopped."""

from __future__ import annotations

import ssl
import threading
from http.server import HTTPServer
from pathlib import Path
from typing import Tuple, TypeVar

#: where every test server listens: loopback, on a port the kernel picks
ANY_LOCAL_PORT = ("127.0.0.1", 0)

Server = TypeVar("Server", bound=HTTPServer)


def serve(server: Server, *, tls: Tuple[Path, Path] | None = None) -> Server:
    """Start answering ``server``'s requests; with ``tls`` (certificate, key),
    over HTTPS."""
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def base_url(server: HTTPServer, host: str = "127.0.0.1") -> str:
    """``scheme://host:port`` of a served server (``host``: another name for it)."""
    scheme = "https" if isinstance(server.socket, ssl.SSLSocket) else "http"
    return f"{scheme}://{host}:{server.server_address[1]}"


def stop(server: HTTPServer) -> None:
    server.shutdown()
    server.server_close()
