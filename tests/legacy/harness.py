"""Helpers for the legacy ``databricks`` CLI (databricks-cli 0.18) against the emulator.

That CLI keeps only the scheme and host name of ``DATABRICKS_HOST`` (``http://127.0.0.1:8765`` becomes
``http://127.0.0.1/api/...``), so the emulator must listen on port 80: one emulator per module, bound
to 127.0.0.1:80. Where port 80 cannot be bound at all (no privilege) the module is skipped, naming the
cause; where another process holds it, the fixture waits a little and then fails, naming the port.

The CLI runs as a subprocess (the console script installed beside this interpreter) with the host and
token in its environment and a fresh ``HOME``, so no ``~/.databrickscfg`` is read or written.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from brickbook.emulator.server import RunningEmulator, start_in_thread
from tests.emulator.harness import ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu, make_settings
from tests.fakes import FakeClock

PORT = 80
HOST = "http://127.0.0.1"  # no port: the CLI would drop it
BUSY_WAIT_SECONDS = 30.0  # another test process may be finishing with port 80
CLI_TIMEOUT_SECONDS = 120
DATABRICKS = Path(sys.executable).parent / "databricks"
# Lookups the CLI makes to learn whether something exists: a 404 there is an answer, not a gap.
PROBES = frozenset({"/api/2.0/dbfs/get-status", "/api/2.0/workspace/get-status"})


def start() -> tuple[FakeClock, RunningEmulator]:
    """Start the emulator on 127.0.0.1:80 (fake clock); return (clock, running emulator)."""
    clock = FakeClock()
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while True:
        try:
            return clock, start_in_thread(make_settings(clock, port=PORT, users={ALICE: ALICE_TOKEN}))
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                pytest.skip(
                    f"the legacy databricks CLI reaches only port {PORT} ({exc.strerror}): "
                    "run as root or with CAP_NET_BIND_SERVICE"
                )
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                pytest.fail(
                    f"port {PORT} stayed busy for {BUSY_WAIT_SECONDS:.0f} s ({exc.strerror}): another "
                    "emulator or test process holds it"
                )
            time.sleep(0.5)  # waiting for another process to let go of the port


def gaps(emu: Emu) -> list[str]:
    """Requests that met a missing route (501) or a 404 outside the CLI's existence probes."""
    entries: list[dict[str, Any]] = emu.control("GET", "requests").json()["requests"]
    return [
        f"{e['status']} {e['method']} {e['path']}"
        for e in entries
        if e["status"] == 501 or (e["status"] == 404 and e["path"] not in PROBES)
    ]


@dataclass
class LegacyCli:
    """Runs the real ``databricks`` script against the emulator; each test gets a fresh one."""

    emu: Emu
    home: Path

    def run(self, *args: str, token: str = ADMIN_TOKEN) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "DATABRICKS_HOST": HOST,
            "DATABRICKS_TOKEN": token,
            "LANG": "C.UTF-8",
        }
        done = subprocess.run(
            [str(DATABRICKS), *args],
            env=env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
        assert token not in done.stdout + done.stderr, "the CLI printed its token"
        return done

    def ok(self, *args: str, token: str = ADMIN_TOKEN) -> str:
        """Run; assert exit code 0; return stdout."""
        done = self.run(*args, token=token)
        assert done.returncode == 0, f"databricks {' '.join(args)}: {done.stderr or done.stdout}"
        return done.stdout

    def json(self, *args: str, token: str = ADMIN_TOKEN) -> Any:
        """Run; assert exit code 0; return stdout parsed as JSON ({} for no output)."""
        out = self.ok(*args, token=token)
        return json.loads(out) if out.strip() else {}

    def state(self, method: str, route: str, /, **query: Any) -> Any:
        """The emulator's own answer (raw HTTP as the admin), to check state beside what the CLI says."""
        response = self.emu.request(method, route, params=query or None)
        assert response.status_code == 200, response.text
        return response.json()
