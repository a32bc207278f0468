"""Tasks for the local workspace emulator: ``emulator.serve``.

The library never imports the emulator: this task starts it as its own process
(``python -m brickbook.emulator``), replacing the current one so signals reach it directly.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from brickbook.command import Invocation, command
from brickbook.errors import UsageError

__all__ = ["serve"]


@command(
    help={
        "host": "Address to bind (loopback only is wise). Default: 127.0.0.1.",
        "port": "Port to listen on; 0 picks a free one. Default: 8765.",
        "token": "Admin token; prefer BRICKBOOK_EMULATOR_TOKEN, which stays out of shell history.",
        "user": "Extra non-admin principal as NAME=TOKEN (repeatable).",
        "data_dir": "Directory that keeps state across restarts (default: in memory).",
        "latency_ms": "Latency added to every request, to stand in for a WAN.",
    },
    iterable=["user"],
)
def serve(
    inv: Invocation,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    user: list[str] | None = None,
    data_dir: str | None = None,
    latency_ms: int = 0,
) -> None:
    """Run the local workspace emulator in the foreground until Ctrl-C."""
    if importlib.util.find_spec("starlette") is None or importlib.util.find_spec("uvicorn") is None:
        raise UsageError("the emulator needs its extra: pip install 'brickbook[emulator]'")
    argv = [sys.executable, "-m", "brickbook.emulator", "--host", host, "--port", str(port)]
    if token:
        argv += ["--token", token]
    for principal in user or []:
        argv += ["--user", principal]
    if data_dir:
        argv += ["--data-dir", data_dir]
    if latency_ms:
        argv += ["--latency-ms", str(latency_ms)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)  # noqa: S606 - argv is built above, no shell
