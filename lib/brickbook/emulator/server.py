"""Run the emulator: in a daemon thread (tests, tools) or in the foreground (the command line).

``start_in_thread`` binds the socket itself, so ``port=0`` works and the real port is known before the
server accepts anything; it returns once uvicorn has started. uvicorn logs only warnings and errors,
no access log; the connections the fault injector drops on purpose are not logged at all.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import TextIO

import uvicorn

from brickbook.emulator.app import create_app
from brickbook.emulator.faults import SilenceDroppedConnections
from brickbook.emulator.settings import EmulatorSettings

__all__ = ["RunningEmulator", "serve_forever", "start_in_thread"]

_STARTUP_TIMEOUT_SECONDS = 15.0


@dataclass
class RunningEmulator:
    """A started emulator; ``stop()`` (or leaving the ``with`` block) shuts it down and waits."""

    url: str
    host: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Name IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then (else ~40 ms per request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        # Name the address: "[Errno 98] Address already in use" alone does not say which one.
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def _quiet_uvicorn_errors() -> None:
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, SilenceDroppedConnections) for f in error_log.filters):
        error_log.addFilter(SilenceDroppedConnections())


def start_in_thread(settings: EmulatorSettings) -> RunningEmulator:
    """Start the emulator on a daemon thread; return once it accepts connections."""
    sock = _bind(settings.host, settings.port)
    port = int(sock.getsockname()[1])
    _quiet_uvicorn_errors()
    config = uvicorn.Config(
        create_app(settings),
        http="h11",
        ws="none",
        loop="asyncio",
        lifespan="on",
        access_log=False,
        log_config=None,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"brickbook-emulator-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
    # Waiting for the server thread, not for time to pass: uvicorn offers a flag, not an event.
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.005)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return RunningEmulator(
        url=f"http://{host}:{port}", host=settings.host, port=port, _server=server, _thread=thread
    )


def serve_forever(settings: EmulatorSettings, *, out: TextIO = sys.stdout) -> int:
    """Serve in the foreground until SIGINT or SIGTERM; print one ready line; return the exit code."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with start_in_thread(settings) as emulator:
            print(f"brickbook emulator listening on {emulator.url}", file=out, flush=True)
            while not stop.wait(0.5):
                if not emulator.running:
                    return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
