"""A small hostile HTTP server on loopback: each answer kind is one server thread on its own port.

The hostile-input rows point ``DATABRICKS_HOST`` at one of these instead of the emulator, to prove
what brickbook does with answers a broken proxy or a misbehaving service gives: an HTML error page,
an empty body, a body cut short, a 200 that is not JSON, a body of 100 MB (written as long as the
client keeps reading) and a slow-loris answer (a byte at a time, never finishing). Servers start on
first use and live as long as the process (daemon threads); ``url(kind)`` is all a row needs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 100 * 1024 * 1024
TRICKLE_SECONDS = 0.25  # the slow-loris gap: shorter than any read timeout, so only a total deadline stops it
TRICKLE_FOR_SECONDS = 120.0  # how long the slow loris keeps going if nobody hangs up

_HTML = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The proxy received an invalid response.</p></body></html>"
)


def _head(
    handler: BaseHTTPRequestHandler, status: int, length: int | None, kind: str = "application/json"
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.flush()


def _html(handler: BaseHTTPRequestHandler) -> None:
    _head(handler, 502, len(_HTML), "text/html")
    handler.wfile.write(_HTML)


def _html_ok(handler: BaseHTTPRequestHandler) -> None:
    # A captive portal or login page answering 200 with HTML where JSON belongs.
    _head(handler, 200, len(_HTML), "text/html")
    handler.wfile.write(_HTML)


def _empty(handler: BaseHTTPRequestHandler) -> None:
    _head(handler, 200, 0)


def _truncated(handler: BaseHTTPRequestHandler) -> None:
    body = b'{"objects": [{"path": "/Shared/a", "object_type": "NOTEBOOK"}, {"pa'
    _head(handler, 200, len(body) * 10)
    handler.wfile.write(body)
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)


def _invalid_json(handler: BaseHTTPRequestHandler) -> None:
    body = b"{'objects': [nonsense, }"
    _head(handler, 200, len(body))
    handler.wfile.write(body)


def _huge(handler: BaseHTTPRequestHandler) -> None:
    entry = b'{"path": "/Shared/' + b"x" * 200 + b'", "object_type": "FILE"},'
    chunk = entry * (1024 * 1024 // len(entry))
    opening = b'{"objects": ['
    _head(handler, 200, HUGE_BYTES)
    handler.wfile.write(opening)
    sent = len(opening)
    while sent < HUGE_BYTES:
        piece = chunk[: HUGE_BYTES - sent]
        handler.wfile.write(piece)  # a client that hangs up ends this with BrokenPipe / reset
        sent += len(piece)


def _slow_loris(handler: BaseHTTPRequestHandler) -> None:
    _head(handler, 200, 1024 * 1024)
    handler.wfile.write(b'{"objects": [')
    deadline = time.monotonic() + TRICKLE_FOR_SECONDS
    while time.monotonic() < deadline:
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(TRICKLE_SECONDS)


ANSWERS: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
    "html": _html,
    "html-ok": _html_ok,
    "empty": _empty,
    "truncated": _truncated,
    "invalid-json": _invalid_json,
    "huge": _huge,
    "slow-loris": _slow_loris,
}


class _Handler(BaseHTTPRequestHandler):
    answer: Callable[[BaseHTTPRequestHandler], None]
    protocol_version = "HTTP/1.1"

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        with contextlib.suppress(OSError):  # the client hung up: exactly what a bounded client does
            type(self).answer(self)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

    def log_message(self, format: str, *args: object) -> None:
        pass


_servers: dict[str, ThreadingHTTPServer] = {}
_lock = threading.Lock()


def url(kind: str) -> str:
    """Return the base URL of the server that gives the ``kind`` answer, starting it on first use."""
    with _lock:
        server = _servers.get(kind)
        if server is None:
            handler = type(f"_{kind}", (_Handler,), {"answer": staticmethod(ANSWERS[kind])})
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, name=f"hostile-{kind}", daemon=True).start()
            _servers[kind] = server
        return f"http://127.0.0.1:{server.server_address[1]}"
